import { EngramError, type EngramErrorCode } from "./errors.js";
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
/**
 * The keys Engram tags a record with itself (scoring/entities.ts ENTITIES_KEY, scoring/dates.ts
 * DATES_KEY): not counted against {@link MAX_METADATA_KEYS}, so a record stored with 32 keys of
 * the user's plus its tags can be added again as it was read (an export imported, a copy).
 */
export const TAG_METADATA_KEYS: ReadonlySet<string> = new Set(["entities", "dates"]);
const MAX_METADATA_STRING = 1_000;
/** A metadata key is an id (core/text.ts): no longer than a user, agent, thread or record id. */
const MAX_METADATA_KEY = 256;

/** The latest time a `Date` can hold, in milliseconds from the epoch (and its negative, the earliest). */
export const MAX_TIME = 8_640_000_000_000_000;

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

/** The largest `maxContentChars`: about 3 MB of UTF-8, well within one Chroma request. */
export const MAX_CONTENT_CHARS_LIMIT = 1_000_000;

/**
 * The `maxContentChars` option: an integer from 2 (the smallest a text can be split into parts
 * of) to {@link MAX_CONTENT_CHARS_LIMIT}. `NaN` was taken as no limit at all (no length is greater
 * than NaN), and 0 or 1 as a limit every add failed on.
 */
export function validateMaxContentChars(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_CONTENT_CHARS;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 2 || value > MAX_CONTENT_CHARS_LIMIT) {
    throw new EngramError("INVALID_OPTIONS", `maxContentChars must be an integer from 2 to ${MAX_CONTENT_CHARS_LIMIT}, got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * Flat metadata only: string, finite number or boolean values, no reserved keys (the record's own
 * fields, and Chroma's "chroma:" prefix), no keys that look like filter operators, none longer than an id may be (256), and not
 * `__proto__` (an assignment to it sets no key: the value vanished, and as a filter it matched
 * every record). The object must hold its data in its own properties: a Map, a Date or a Set has
 * none, and was read as `{}`, its data silently dropped.
 */
export function validateMetadata(input: unknown): Metadata {
  if (input === undefined) return {};
  const entries = ownEntries(input, "metadata", "INVALID_METADATA", "{ topic: \"food\" }");
  const own = entries.filter(([key]) => !TAG_METADATA_KEYS.has(key)).length;
  if (own > MAX_METADATA_KEYS) {
    throw new EngramError(
      "INVALID_METADATA",
      `metadata has ${own} keys; at most ${MAX_METADATA_KEYS} are allowed (besides ${[...TAG_METADATA_KEYS].map((key) => `"${key}"`).join(" and ")}, which Engram tags itself).`,
    );
  }
  const clean: Metadata = {};
  for (const [key, value] of entries) {
    // "chroma:" is Chroma's own prefix: the server drops such keys from a row without a word, so
    // the record came back without them and a filter on one matched nothing.
    if (key.length === 0 || key.startsWith("$") || key.startsWith("_engram") || key.startsWith("chroma:") || key === "__proto__") {
      throw new EngramError(
        "INVALID_METADATA",
        `metadata key ${describeValue(key)} is not allowed (empty, "__proto__", or a "$", "_engram" or "chroma:" prefix).`,
      );
    }
    if (RESERVED_METADATA_KEYS.has(key)) {
      throw new EngramError("INVALID_METADATA", `metadata key "${key}" is reserved for the record's own field; pass it as an option instead or rename it.`);
    }
    if (key.length > MAX_METADATA_KEY) {
      throw new EngramError("INVALID_METADATA", `metadata key ${describeValue(key)} is longer than ${MAX_METADATA_KEY} characters.`);
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

/**
 * The own enumerable entries of an object a caller passed as options or metadata, read once.
 * Refused (`code`): a non-object, an array, and an object whose data is not in its own properties
 * (a Map, a Set, a Date, a boxed string: `Object.entries` sees none of it, so it read as `{}`).
 * A getter or a Proxy trap that throws while it is read becomes the same typed error, with the
 * thrown error as its cause, rather than escaping as a bare `Error`.
 */
export function ownEntries(value: unknown, name: string, code: EngramErrorCode, example: string): Array<[string, unknown]> {
  try {
    // Inside the try: `Array.isArray` throws on a revoked Proxy.
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new EngramError(code, `${name} must be an object like ${example}, got ${describeValue(value)}.`);
    }
    const tag = Object.prototype.toString.call(value);
    if (tag !== "[object Object]") {
      throw new EngramError(code, `${name} must be a plain object like ${example}, got ${tag.slice(8, -1)} (its entries are not its own properties).`);
    }
    return Object.entries(value as Record<string, unknown>);
  } catch (error) {
    if (error instanceof EngramError) throw error;
    throw new EngramError(code, `${name} could not be read: ${error instanceof Error ? error.message : describeValue(error)}.`, { cause: error });
  }
}

export function validateImportance(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new EngramError("INVALID_OPTIONS", `importance must be a number from 0 to 1, got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * A time: a valid Date or milliseconds since the epoch that a Date can hold (within ±{@link MAX_TIME}).
 * A finite number outside that range was stored as a record's time, and every date made from it was
 * invalid: `toISOString()` throws, and the dates its text speaks of were stored as "NaN-NaN-NaN".
 */
export function validateTime(value: unknown, name: string): number {
  const time = isDate(value) ? value.getTime() : value;
  if (typeof time !== "number" || !Number.isFinite(time) || Math.abs(time) > MAX_TIME) {
    throw new EngramError(
      "INVALID_OPTIONS",
      `${name} must be a Date or milliseconds since the epoch (at most ${MAX_TIME} either way, as a Date can hold), got ${describeValue(value)}.`,
    );
  }
  return time;
}

/**
 * `Array.isArray`, false for a revoked Proxy (on which it throws): a check, or the message that
 * explains it, must not fail with a TypeError.
 */
export function isArray(value: unknown): value is unknown[] {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

/** `instanceof Date`, false for a revoked Proxy (on which it throws). */
function isDate(value: unknown): value is Date {
  try {
    return value instanceof Date;
  } catch {
    return false;
  }
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
  const entries = ownEntries(value, name, "INVALID_OPTIONS", example);
  const unknown = entries.filter(([key, item]) => !known.includes(key) && item !== undefined).map(([key]) => key);
  if (unknown.length > 0) {
    throw new EngramError(
      "INVALID_OPTIONS",
      `${name} has unknown ${unknown.length === 1 ? "key" : "keys"} ${unknown.slice(0, 5).map((key) => describeValue(key)).join(", ")}; ` +
        `the keys are ${known.join(", ")}.`,
      { details: { unknown: unknown.slice(0, 20) } },
    );
  }
  return value as Record<string, unknown>;
}

/**
 * `value` without its keys set to undefined: spread over defaults, an option given as undefined
 * takes its default rather than erasing it.
 */
export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
