import { EngramError } from "../core/errors.js";
import type { MemoryRecord } from "../core/types.js";
import { describeValue } from "../core/describe.js";

/**
 * Temporal validity of facts, in the style of Zep's bi-temporal edges, kept in flat metadata:
 * `validFrom` is when the fact became true (the time of the exchange it came from), `validUntil`
 * when a later fact contradicted it. A contradicted fact is not deleted: it keeps its content and
 * gains `validUntil` (and `supersededBy`, the id of the fact that replaced it), so the past stays
 * answerable ("where did I live before?") and the history log shows the change.
 */
export const VALID_FROM_KEY = "validFrom";
export const VALID_UNTIL_KEY = "validUntil";
export const SUPERSEDED_BY_KEY = "supersededBy";
export const SUPERSEDES_KEY = "supersedes";

/** True unless the record's validity ended at or before `now`. Records without `validUntil` are current. */
export function isCurrent(record: MemoryRecord, now: number): boolean {
  const until = record.metadata[VALID_UNTIL_KEY];
  return typeof until !== "number" || until > now;
}

/** The `includeInvalid` option of search and getAll. @default false */
export function validateIncludeInvalid(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new EngramError("INVALID_OPTIONS", `includeInvalid must be a boolean, got ${describeValue(value)}.`);
  }
  return value;
}
