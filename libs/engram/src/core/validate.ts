import { EngramError } from "./errors.js";
import { checkIdText, repairText, safeContent } from "./text.js";
import type { Metadata } from "./types.js";
import { describeValue } from "./describe.js";

/**
 * Longest content one memory may hold, in characters (about 2,000 tokens). `Memory.add` refuses
 * longer content unless asked to split it (`oversize: "split"`, what the graph, middleware and
 * other doors do with a long reply): a memory is one fact or exchange, and a silent split would
 * change what a search returns. Or raise the limit (`maxContentChars`).
 */
export const DEFAULT_MAX_CONTENT_CHARS = 8_000;

/** Metadata keys Engram uses for the record's own fields in the store. */
export const RESERVED_METADATA_KEYS: ReadonlySet<string> = new Set([
  "id",
  "userId",
  "agentId",
  "threadId",
  "kind",
  "content",
  "importance",
  "role",
  "createdAt",
  "updatedAt",
  "lastAccessedAt",
  "expiresAt",
  "sourceThreadId",
  "sourceMessageIds",
  "score",
]);

const MAX_METADATA_KEYS = 32;
const MAX_METADATA_STRING = 1_000;

/**
 * Content made safe for every driver (core/text.ts: a lone surrogate becomes U+FFFD, control
 * characters and unpaired bidi controls are removed), trimmed, and checked: not blank, not over
 * `maxChars`.
 */
export function validateContent(input: unknown, maxChars = DEFAULT_MAX_CONTENT_CHARS): string {
  const content = safeContent(input);
  if (content.length > maxChars) {
    throw new EngramError(
      "CONTENT_TOO_LARGE",
      `Content is ${content.length} characters; the limit is ${maxChars}. Split it into smaller memories or raise maxContentChars.`,
      { details: { length: content.length, limit: maxChars } },
    );
  }
  return content;
}

/**
 * Flat metadata only: string, finite number or boolean values, no reserved keys (the record's own
 * fields) and no keys that look like filter operators.
 */
export function validateMetadata(input: unknown): Metadata {
  if (input === undefined) return {};
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new EngramError("INVALID_METADATA", "metadata must be a plain object of flat values.");
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MAX_METADATA_KEYS) {
    throw new EngramError("INVALID_METADATA", `metadata has ${entries.length} keys; at most ${MAX_METADATA_KEYS} are allowed.`);
  }
  const clean: Metadata = {};
  for (const [key, value] of entries) {
    if (key.length === 0 || key.startsWith("$") || key.startsWith("_engram")) {
      throw new EngramError("INVALID_METADATA", `metadata key ${JSON.stringify(key)} is not allowed (empty, "$" or "_engram" prefix).`);
    }
    if (RESERVED_METADATA_KEYS.has(key)) {
      throw new EngramError("INVALID_METADATA", `metadata key "${key}" is reserved for the record's own field; pass it as an option instead or rename it.`);
    }
    checkIdText(key, `metadata key ${JSON.stringify(key)}`, "INVALID_METADATA");
    if (typeof value === "string") {
      // Values are text like content: repaired, never refused for a broken character.
      const text = repairText(value);
      if (text.length > MAX_METADATA_STRING) {
        throw new EngramError("INVALID_METADATA", `metadata "${key}" is longer than ${MAX_METADATA_STRING} characters.`);
      }
      clean[key] = text;
    } else if (typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
      clean[key] = value;
    } else {
      throw new EngramError(
        "INVALID_METADATA",
        `metadata "${key}" must be a string, a finite number or a boolean; nested objects, arrays and null are not stored.`,
      );
    }
  }
  return clean;
}

export function validateImportance(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new EngramError("INVALID_OPTIONS", `importance must be a number from 0 to 1, got ${describeValue(value)}.`);
  }
  return value;
}

export function validateTime(value: unknown, name: string): number {
  const time = value instanceof Date ? value.getTime() : value;
  if (typeof time !== "number" || !Number.isFinite(time)) {
    throw new EngramError("INVALID_OPTIONS", `${name} must be a Date or milliseconds since the epoch, got ${describeValue(value)}.`);
  }
  return time;
}

export function validateLimit(value: unknown, name: string, fallback: number, max = 10_000): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new EngramError("INVALID_OPTIONS", `${name} must be an integer from 0 to ${max}, got ${describeValue(value)}.`);
  }
  return value;
}

export function validateRecordId(value: unknown): string {
  if (typeof value !== "string" || value.trim().length === 0 || value.length > 256) {
    throw new EngramError("INVALID_ID", `A memory id must be a non-empty string of at most 256 characters, got ${describeValue(value)}.`);
  }
  return checkIdText(value, "A memory id", "INVALID_ID");
}

/**
 * An option that must be a plain object of known keys (a filter, a patch, a source, ranker
 * weights), returned as a record. A key it does not know is refused rather than ignored: a typo
 * such as `{ kinds: "fact" }` would otherwise filter nothing, and a patch of unknown keys would
 * write an update that changes nothing. Keys set to `undefined` (a spread of optional fields) pass.
 */
export function validateOptionObject(value: unknown, name: string, known: readonly string[], example: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Date) {
    throw new EngramError("INVALID_OPTIONS", `${name} must be an object like ${example}, got ${describeValue(value)}.`);
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !known.includes(key) && record[key] !== undefined);
  if (unknown.length > 0) {
    throw new EngramError(
      "INVALID_OPTIONS",
      `${name} has unknown ${unknown.length === 1 ? "key" : "keys"} ${unknown.slice(0, 5).map((key) => describeValue(key)).join(", ")}; ` +
        `the keys are ${known.join(", ")}.`,
      { details: { unknown: unknown.slice(0, 20) } },
    );
  }
  return record;
}

/**
 * `value` without its keys set to undefined: spread over defaults, an option given as undefined
 * takes its default rather than erasing it.
 */
export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
