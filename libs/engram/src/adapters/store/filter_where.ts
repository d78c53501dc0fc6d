import type { Where } from "chromadb";
import type { FilterCondition } from "./filter.js";
import type { StoreValue } from "./validate.js";

/**
 * How a filter reaches Chroma. Chroma metadata is flat and typed, so each top-level field of a
 * value gets up to two shadow keys on its row:
 * - `v:<field>`: the field itself when it is a string (up to 1,024 characters), a boolean or a
 *   number within ±2^53; for `$eq`, `$ne`, `$in`, `$nin`;
 * - `n:<field>`: `Number(field)` when that is not NaN, clamped to ±2^53; for the range operators,
 *   which compare `Number(...)` in LangGraph's stores (so `"5"` is in range of `$gt: 3`).
 *
 * The `where` built here is only a pre-filter: every candidate is checked again in process with
 * the exact meaning (filter.ts). So the one rule is that it must never drop an item the exact
 * filter keeps. Each clause below says why it cannot; what cannot be pushed that way stays in
 * process only. Chroma 1.0 quirks measured on the server (probes in docs/store.md):
 * - a float operand compared with an integer field is truncated (`$gte 1.5` keeps 1, `$in [1.5]`
 *   keeps 1): harmless for `$eq`, `$in` and non-strict ranges (only extra candidates), wrong for
 *   `$ne` / `$nin` (`$ne 1.5` drops 1), so those are pushed only with string, boolean or integer
 *   operands;
 * - `$in` needs one type per list: mixed lists become an `$or` of one list per type;
 * - a missing key passes `$ne` and `$nin`, as a missing field does in process;
 * - strict ranges are pushed as non-strict (`$gt` as `$gte`): clamping can make two different
 *   numbers equal, never reverse their order.
 */

const MAX_SHADOW_STRING = 1_024;

/**
 * Chroma 1.0 cannot remove a metadata key from a row (upsert and update merge, null is ignored),
 * so when a field leaves a value its old shadows are overwritten with this marker. A string is
 * never in a numeric range and never equals a pushed operand (values equal to it are not
 * shadowed), so to every clause below a row with the marker looks like a row without the field.
 */
export const UNSET = "\u001fengram:unset";
const NUMBER_LIMIT = Number.MAX_SAFE_INTEGER;

type Scalar = string | number | boolean;
type ChromaType = "string" | "boolean" | "int" | "float";

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
export function shadowMetadata(value: StoreValue, previous: Iterable<string> = []): Record<string, Scalar> {
  const metadata: Record<string, Scalar> = {};
  for (const key of previous) {
    if (key.startsWith("v:") || key.startsWith("n:")) metadata[key] = UNSET;
  }
  for (const [field, item] of Object.entries(value)) {
    if (isShadowScalar(item)) metadata[valueKey(field)] = item;
    const number = Number(item);
    if (!Number.isNaN(number)) metadata[numberKey(field)] = clamp(number);
  }
  return metadata;
}

/** The Chroma clauses a filter can safely narrow candidates with (ANDed by the caller). */
export function filterClauses(conditions: readonly FilterCondition[]): Where[] {
  const clauses: Where[] = [];
  for (const condition of conditions) {
    const key = condition.key;
    if (condition.kind === "equals") {
      if (isShadowScalar(condition.value)) clauses.push({ [valueKey(key)]: { $eq: condition.value } });
      continue;
    }
    for (const [operator, operand] of condition.operators) {
      const clause = operatorClause(key, operator, operand);
      if (clause) clauses.push(clause);
    }
  }
  return clauses;
}

function operatorClause(key: string, operator: string, operand: unknown): Where | undefined {
  switch (operator) {
    case "$eq":
      return isShadowScalar(operand) ? { [valueKey(key)]: { $eq: operand } } : undefined;
    case "$ne":
      return isExactOperand(operand) ? { [valueKey(key)]: { $ne: operand } } : undefined;
    case "$in": {
      const list = operand as unknown[];
      if (list.length === 0 || !list.every(isShadowScalar)) return undefined;
      return anyOf(byType(list as Scalar[]).map((group) => membership(valueKey(key), "$in", group)));
    }
    case "$nin": {
      const list = operand as unknown[];
      if (list.length === 0 || !list.every(isExactOperand)) return undefined;
      return allOf(byType(list as Scalar[]).map((group) => membership(valueKey(key), "$nin", group)));
    }
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte": {
      const number = Number(operand);
      if (Number.isNaN(number)) return undefined;
      const bound = clamp(number);
      return { [numberKey(key)]: operator === "$gt" || operator === "$gte" ? { $gte: bound } : { $lte: bound } };
    }
    default:
      return undefined;
  }
}

/** ANDs clauses the way Chroma wants: no `$and` around a single clause. */
export function allOf(clauses: Where[]): Where | undefined {
  if (clauses.length === 0) return undefined;
  return clauses.length === 1 ? clauses[0] : { $and: clauses };
}

function anyOf(clauses: Where[]): Where | undefined {
  if (clauses.length === 0) return undefined;
  return clauses.length === 1 ? clauses[0] : { $or: clauses };
}

function membership(key: string, operator: "$in" | "$nin", group: Scalar[]): Where {
  if (group.length === 1) return { [key]: operator === "$in" ? { $eq: group[0]! } : { $ne: group[0]! } };
  return { [key]: operator === "$in" ? { $in: group } : { $nin: group } } as Where;
}

function byType(values: Scalar[]): Scalar[][] {
  const groups = new Map<ChromaType, Scalar[]>();
  for (const value of values) {
    const type = chromaType(value);
    const group = groups.get(type) ?? [];
    if (!group.some((seen) => seen === value)) group.push(value);
    groups.set(type, group);
  }
  return [...groups.values()];
}

function chromaType(value: Scalar): ChromaType {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  return Number.isInteger(value) ? "int" : "float";
}

function isShadowScalar(value: unknown): value is Scalar {
  if (typeof value === "string") return value.length <= MAX_SHADOW_STRING && value !== UNSET;
  if (typeof value === "boolean") return true;
  return typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= NUMBER_LIMIT;
}

/** Operands Chroma compares without truncation against every stored type. */
function isExactOperand(value: unknown): value is Scalar {
  return isShadowScalar(value) && (typeof value !== "number" || Number.isInteger(value));
}

function clamp(number: number): number {
  return Math.min(NUMBER_LIMIT, Math.max(-NUMBER_LIMIT, number));
}
