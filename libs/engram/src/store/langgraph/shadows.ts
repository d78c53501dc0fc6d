import type { StoreValue } from "./validate.js";

/**
 * The filter shadows of a store item's rows: Chroma metadata is flat and typed, so each top-level
 * field of a value gets up to two shadow keys on its rows, which the `where` clauses of
 * store/chroma_where.ts (`itemFilterClauses`) narrow candidates with:
 * - `v:<field>`: the field itself when it is a string (up to 1,024 characters), a boolean or a
 *   number within ±2^53; for `$eq`, `$ne`, `$in`, `$nin`;
 * - `n:<field>`: `Number(field)` when that is not NaN, clamped to ±2^53; for the range operators,
 *   which compare `Number(...)` in LangGraph's stores (so `"5"` is in range of `$gt: 3`).
 */

const MAX_SHADOW_STRING = 1_024;

/**
 * What rows written by earlier versions hold where a field left a value (the writer now removes
 * those shadows in the upsert itself: writer.ts), and what `shadowMetadata` writes over
 * `previous` keys. A string is
 * never in a numeric range and never equals a pushed operand (values equal to it are not
 * shadowed), so to every clause a row with the marker looks like a row without the field.
 */
export const UNSET = "\u001fengram:unset";
const NUMBER_LIMIT = Number.MAX_SAFE_INTEGER;

export type ShadowScalar = string | number | boolean;

export function valueKey(field: string): string {
  return `v:${field}`;
}

export function numberKey(field: string): string {
  return `n:${field}`;
}

/**
 * Shadow keys of a value's top-level fields, for its Chroma rows. `previous` are the metadata
 * keys the rows had before (an update): shadows the new value lacks are set to UNSET.
 */
export function shadowMetadata(value: StoreValue, previous: Iterable<string> = []): Record<string, ShadowScalar> {
  const metadata: Record<string, ShadowScalar> = {};
  for (const key of previous) {
    if (key.startsWith("v:") || key.startsWith("n:")) metadata[key] = UNSET;
  }
  for (const [field, item] of Object.entries(value)) {
    if (isShadowScalar(item)) metadata[valueKey(field)] = item;
    const number = Number(item);
    if (!Number.isNaN(number)) metadata[numberKey(field)] = clampShadow(number);
  }
  return metadata;
}

/** Values a `v:` shadow holds as they are. */
export function isShadowScalar(value: unknown): value is ShadowScalar {
  if (typeof value === "string") return value.length <= MAX_SHADOW_STRING && value !== UNSET;
  if (typeof value === "boolean") return true;
  return typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= NUMBER_LIMIT;
}

/** Operands Chroma compares without truncation against every stored type. */
export function isExactOperand(value: unknown): value is ShadowScalar {
  return isShadowScalar(value) && (typeof value !== "number" || Number.isInteger(value));
}

/** A number as an `n:` shadow holds it. */
export function clampShadow(number: number): number {
  return Math.min(NUMBER_LIMIT, Math.max(-NUMBER_LIMIT, number));
}
