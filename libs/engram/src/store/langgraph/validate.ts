import { EngramError } from "../../core/errors.js";
import { validatePrefix } from "../../core/scope.js";
import { isWellFormed, repairText } from "../../core/text.js";
import type { EngramStoreIndexConfig, EngramStoreTtlConfig } from "./options.js";
import { refuseUnknownOptions, type OptionNames } from "../../core/option_names.js";
import { describeValue } from "../../core/describe.js";

/** A JSON object as the store keeps it. */
export type StoreValue = Record<string, unknown>;

/**
 * Chroma 1.0 writes one row's metadata in one SQLite statement (six bound variables per key, at
 * most 32,766): a row with more than 5,460 keys is taken into Chroma's log but its compaction
 * fails, and from then on every read and write of that collection (the whole first label) fails,
 * also after a restart. An item's row has ten system keys, one per namespace label and up to two
 * filter shadows per top-level field (rows.ts), so these two limits keep it under 4,200.
 */
export const MAX_NAMESPACE_LABELS = 100;
export const MAX_VALUE_FIELDS = 2_000;

/**
 * A value's JSON is its Chroma row's document, sent in one request, and Chroma's server refuses a
 * request body over 40 MiB: a larger value is refused before anything of its batch is written
 * (the filter shadows and vectors of its row need the rest).
 */
export const MAX_VALUE_BYTES = 32 * 1024 * 1024;

/**
 * Namespace rules, LangGraph's (`validateNamespace` in @langchain/langgraph-checkpoint) raised as
 * `EngramError`s: labels are non-empty strings without ".", ":" or NUL. "." and ":" are the
 * separators LangGraph's stores and tools use to print a namespace, so a label holding one would
 * be ambiguous. `put` also refuses an empty namespace and the reserved root label "langgraph".
 */
export function validateNamespace(
  namespace: unknown,
  { allowEmpty = false, forWrite = false }: { allowEmpty?: boolean; forWrite?: boolean } = {},
): string[] {
  if (!Array.isArray(namespace)) {
    throw new EngramError("INVALID_NAMESPACE", `A namespace must be an array of labels, e.g. ["alice", "memories"]; got ${describe(namespace)}.`);
  }
  if (namespace.length === 0 && !allowEmpty) {
    throw new EngramError("INVALID_NAMESPACE", "A namespace must have at least one label, e.g. [\"alice\", \"memories\"].");
  }
  if (namespace.length > MAX_NAMESPACE_LABELS) {
    throw new EngramError("INVALID_NAMESPACE", `A namespace has at most ${MAX_NAMESPACE_LABELS} labels, got ${namespace.length}.`);
  }
  namespace.forEach((label: unknown, i) => {
    const where = `Namespace label ${i} (${describeValue(label)}) in ${safeJson(namespace)}`;
    if (typeof label !== "string") throw new EngramError("INVALID_NAMESPACE", `${where} must be a string, got ${describe(label)}.`);
    if (label === "") throw new EngramError("INVALID_NAMESPACE", `${where} must not be empty.`);
    if (label.includes(".")) throw new EngramError("INVALID_NAMESPACE", `${where} must not contain "." (LangGraph's namespace separator).`);
    if (label.includes(":")) throw new EngramError("INVALID_NAMESPACE", `${where} must not contain ":".`);
    if (label.includes("\0")) throw new EngramError("INVALID_NAMESPACE", `${where} must not contain a NUL character.`);
    // An id is refused, never repaired (core/text.ts): two labels must not become one.
    if (!isWellFormed(label)) throw new EngramError("INVALID_NAMESPACE", `${where} contains a broken character (a lone UTF-16 surrogate).`);
  });
  if (forWrite && namespace[0] === "langgraph") {
    throw new EngramError("INVALID_NAMESPACE", `The root label "langgraph" is reserved by LangGraph; got ${safeJson(namespace)}.`);
  }
  return namespace as string[];
}

/** Match paths of `listNamespaces` (prefix / suffix): labels or the wildcard "*", possibly empty. */
export function validateMatchPath(path: unknown, name: string): string[] {
  try {
    return validateNamespace(path, { allowEmpty: true });
  } catch (error) {
    throw new EngramError("INVALID_NAMESPACE", `${name}: ${(error as Error).message}`, { cause: error });
  }
}

export function validateKey(key: unknown): string {
  if (typeof key !== "string") throw new EngramError("INVALID_ID", `A store key must be a string, got ${describe(key)}.`);
  // Refused, never repaired (core/text.ts): two keys must not become one item.
  if (!isWellFormed(key) || key.includes("\0")) {
    throw new EngramError("INVALID_ID", `A store key must not contain a NUL or a broken character (a lone UTF-16 surrogate); got ${describeValue(key)}.`);
  }
  return key;
}

/**
 * Values are stored as JSON: a plain object whose JSON form reads back. A class instance, an
 * array, a string or a value JSON cannot write (a BigInt, a cycle) is refused. What JSON changes
 * silently (a Date becomes its ISO string, `undefined` fields vanish) comes back changed.
 */
export function validateValue(value: unknown): StoreValue {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new EngramError("INVALID_VALUE", `A store value must be a plain object, got ${describe(value)}.`);
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "an object with a custom prototype";
    throw new EngramError("INVALID_VALUE", `A store value must be a plain object, got an instance of ${name}; convert it to a plain object first.`);
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw new EngramError("INVALID_VALUE", `A store value must be JSON-serializable: ${(cause as Error).message}`, { cause });
  }
  if (json === undefined) {
    throw new EngramError("INVALID_VALUE", "A store value must be a plain object as JSON; its toJSON() gives undefined.");
  }
  // Text inside the value is made safe like any content (core/text.ts): Chroma's JSON parser
  // refuses a lone surrogate, and PostgreSQL a NUL.
  const stored = JSON.parse(json, (_key, item: unknown) => (typeof item === "string" ? repairText(item) : item)) as unknown;
  // A `toJSON` method decides what JSON writes: a value whose toJSON gave a string or an array was
  // stored and read back as that (no longer an object), one that gave null failed with a TypeError.
  if (stored === null || typeof stored !== "object" || Array.isArray(stored)) {
    throw new EngramError("INVALID_VALUE", `A store value must be a plain object as JSON; its toJSON() gives ${describe(stored)}.`);
  }
  // A top-level field is also a key of its Chroma row's metadata (a filter shadow, rows.ts), and
  // Chroma's JSON parser refuses a lone surrogate there: the upsert failed with STORE_ERROR after
  // the batch's other first labels were written. Refused, never repaired: two fields must not
  // become one.
  const broken = Object.keys(stored).find((field) => !isWellFormed(field));
  if (broken !== undefined) {
    throw new EngramError("INVALID_VALUE", `A store value's field ${describeValue(broken)} contains a broken character (a lone UTF-16 surrogate).`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(json));
  if (bytes > MAX_VALUE_BYTES) {
    throw new EngramError("INVALID_VALUE", `A store value is at most ${MAX_VALUE_BYTES / 1024 / 1024} MiB as JSON (Chroma refuses larger requests), got ${(bytes / 1024 / 1024).toFixed(1)} MiB.`);
  }
  const fields = Object.keys(stored).length;
  if (fields > MAX_VALUE_FIELDS) {
    throw new EngramError(
      "INVALID_VALUE",
      `A store value has at most ${MAX_VALUE_FIELDS} top-level fields (each is a filter shadow on its Chroma row), got ${fields}; nest them under one field.`,
    );
  }
  return stored as StoreValue;
}

/** `index` of a put: `false` (not embedded), a list of field paths, or unset (the store's fields). */
export function validatePutIndex(index: unknown): false | string[] | undefined {
  if (index === undefined || index === null || index === false) return index === false ? false : undefined;
  if (Array.isArray(index) && index.every((field) => typeof field === "string" && field.length > 0)) return index as string[];
  throw new EngramError("INVALID_OPTIONS", `index must be false or a list of non-empty field paths, got ${describe(index)}.`);
}

/** A TTL in minutes: a positive finite number; `null` means "never expires". */
export function validateTtl(ttl: unknown, name = "ttl"): number | null | undefined {
  if (ttl === undefined || ttl === null) return ttl;
  if (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl <= 0) {
    throw new EngramError("INVALID_TTL", `${name} must be a positive number of minutes (or null for no expiry), got ${describe(ttl)}.`);
  }
  return ttl;
}

export function validateTtlConfig(config: unknown): EngramStoreTtlConfig {
  if (config === undefined) return {};
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new EngramError("INVALID_TTL", `ttl must be an object like { defaultTtl: 60 }, got ${describe(config)}.`);
  }
  const raw = config as EngramStoreTtlConfig;
  refuseUnknownOptions(raw, "EngramStore ttl", TTL_OPTION_NAMES, "{ defaultTtl: 60, refreshOnRead: true }");
  const clean: EngramStoreTtlConfig = {};
  const defaultTtl = validateTtl(raw.defaultTtl, "ttl.defaultTtl");
  if (defaultTtl !== undefined && defaultTtl !== null) clean.defaultTtl = defaultTtl;
  const interval = validateTtl(raw.sweepIntervalMinutes, "ttl.sweepIntervalMinutes");
  if (interval !== undefined && interval !== null) clean.sweepIntervalMinutes = interval;
  if (raw.refreshOnRead !== undefined) {
    if (typeof raw.refreshOnRead !== "boolean") {
      throw new EngramError("INVALID_TTL", `ttl.refreshOnRead must be a boolean, got ${describe(raw.refreshOnRead)}.`);
    }
    clean.refreshOnRead = raw.refreshOnRead;
  }
  if (raw.onSweep !== undefined) {
    if (typeof raw.onSweep !== "function") throw new EngramError("INVALID_TTL", "ttl.onSweep must be a function.");
    clean.onSweep = raw.onSweep;
  }
  return clean;
}

const INDEX_OPTION_NAMES: OptionNames<EngramStoreIndexConfig> = { fields: true, embeddings: true, dims: true };
const TTL_OPTION_NAMES: OptionNames<EngramStoreTtlConfig> = { defaultTtl: true, refreshOnRead: true, sweepIntervalMinutes: true, onSweep: true };

export function validateIndexConfig(index: unknown): EngramStoreIndexConfig | false {
  if (index === undefined) return {};
  if (index === false) return false;
  if (index === null || typeof index !== "object" || Array.isArray(index)) {
    throw new EngramError("INVALID_OPTIONS", `index must be false or an object like { fields: ["text"] }, got ${describe(index)}.`);
  }
  const raw = index as EngramStoreIndexConfig;
  // A name it does not know was ignored: LangGraph Python's `embed` ran on the default local model.
  refuseUnknownOptions(raw, "EngramStore index", INDEX_OPTION_NAMES, '{ fields: ["text"], embeddings }');
  if (raw.fields !== undefined && validatePutIndex(raw.fields) === undefined) {
    throw new EngramError("INVALID_OPTIONS", "index.fields must be a list of field paths.");
  }
  if (raw.dims !== undefined && (!Number.isInteger(raw.dims) || raw.dims < 1)) {
    throw new EngramError("INVALID_OPTIONS", `index.dims must be a positive integer, got ${describe(raw.dims)}.`);
  }
  return raw;
}

export function validateStorePrefix(prefix: unknown): string {
  if (typeof prefix !== "string") throw new EngramError("INVALID_OPTIONS", `prefix must be a string, got ${describe(prefix)}.`);
  return validatePrefix(prefix);
}

/** A non-negative integer option (limit, offset) or a positive one (maxDepth). */
export function validateCount(value: unknown, name: string, fallback: number | undefined, min = 0): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new EngramError("INVALID_OPTIONS", `${name} must be an integer of at least ${min}, got ${describe(value)}.`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return typeof value;
}

function safeJson(value: unknown): string {
  return describeValue(value);
}
