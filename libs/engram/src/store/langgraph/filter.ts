import { EngramError } from "../../core/errors.js";
import { isWellFormed, repairText } from "../../core/text.js";
import { ownEntries } from "../../core/validate.js";
import type { StoreValue } from "./validate.js";

export const FILTER_OPERATORS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** One top-level value field and what it must satisfy (every listed operator: AND). */
export type FilterCondition =
  | { key: string; kind: "equals"; value: unknown }
  | { key: string; kind: "operators"; operators: Array<[FilterOperator, unknown]> };

/**
 * Parses a search `filter` (`{ field: value }` for equality, `{ field: { $op: value } }` for the
 * operators). Fields are top-level keys of the value, as in LangGraph's stores. Refused with
 * `INVALID_FILTER`: an unknown `$` operator, an operator object mixed with plain keys, `$in` /
 * `$nin` without a list. (InMemoryStore would quietly treat those as an equality that never
 * holds; a typo should not look like "no results".)
 */
export function parseFilter(filter: unknown): FilterCondition[] {
  if (filter === undefined || filter === null) return [];
  // A Map was read as no condition at all (every item matched), a throwing getter escaped as a
  // bare Error: both are refused here with the filter's code (core/validate.ts ownEntries).
  const fields = ownEntries(filter, "filter", "INVALID_FILTER", '{ status: "active", score: { $gte: 3 } }');
  return fields.map(([key, raw]): FilterCondition => {
    if (!isWellFormed(key)) {
      // No stored value has such a field (validate.ts refuses it), and Chroma refused the where.
      throw new EngramError("INVALID_FILTER", "A filter field contains a broken character (a lone UTF-16 surrogate).");
    }
    // Text in stored values was made safe on put (validate.ts): operands are made safe the same
    // way, so a filter matches what its text was stored as (a lone surrogate in a `where` made
    // Chroma refuse the whole search).
    const expected = safeOperand(raw);
    if (!isPlainObject(expected)) return { key, kind: "equals", value: expected };
    const entries = Object.entries(expected);
    const dollar = entries.filter(([name]) => name.startsWith("$"));
    if (dollar.length === 0 && entries.length > 0) return { key, kind: "equals", value: expected };
    if (dollar.length !== entries.length) {
      throw new EngramError("INVALID_FILTER", `filter.${key} mixes operators with plain fields; use either { $op: value } or a value to compare.`);
    }
    const operators = entries.map(([name, operand]): [FilterOperator, unknown] => {
      if (!(FILTER_OPERATORS as readonly string[]).includes(name)) {
        throw new EngramError("INVALID_FILTER", `filter.${key} uses the unknown operator ${name}; known: ${FILTER_OPERATORS.join(" ")}.`);
      }
      if ((name === "$in" || name === "$nin") && !Array.isArray(operand)) {
        throw new EngramError("INVALID_FILTER", `filter.${key}.${name} must be a list of values.`);
      }
      return [name as FilterOperator, operand];
    });
    return { key, kind: "operators", operators };
  });
}

/**
 * An operand whose text holds a lone surrogate, repaired as stored text is (core/text.ts), through
 * lists and objects. Well-formed text is left as given (what Chroma takes needs no change).
 */
function safeOperand(value: unknown): unknown {
  if (typeof value === "string") return isWellFormed(value) ? value : repairText(value);
  if (Array.isArray(value)) return value.map(safeOperand);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, safeOperand(item)]));
  return value;
}

/**
 * The filter's exact meaning, applied in process to a stored value. Operators as LangGraph's
 * InMemoryStore defines them (`compareValues`): `$eq` / `$ne` / `$in` / `$nin` compare strictly
 * (`1` is not `"1"`), a missing field is `undefined` (so it passes `$ne` and `$nin`), and the
 * range operators compare `Number(field)` with `Number(operand)` (so `"5"` is greater than 3 and
 * a missing field is never in range). One deliberate difference: objects and arrays compare by
 * content, where InMemoryStore compares them by reference (so they never match there).
 */
export function matchesFilter(value: StoreValue, conditions: readonly FilterCondition[]): boolean {
  return conditions.every((condition) => {
    const field = fieldOf(value, condition.key);
    if (condition.kind === "equals") return sameValue(field, condition.value);
    return condition.operators.every(([operator, operand]) => applyOperator(operator, field, operand));
  });
}

/** A top-level field; only own properties, so `"constructor"` is not a field of every value. */
export function fieldOf(value: StoreValue, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
}

function applyOperator(operator: FilterOperator, field: unknown, operand: unknown): boolean {
  switch (operator) {
    case "$eq":
      return sameValue(field, operand);
    case "$ne":
      return !sameValue(field, operand);
    case "$gt":
      return Number(field) > Number(operand);
    case "$gte":
      return Number(field) >= Number(operand);
    case "$lt":
      return Number(field) < Number(operand);
    case "$lte":
      return Number(field) <= Number(operand);
    case "$in":
      return (operand as unknown[]).some((candidate) => sameValue(field, candidate));
    case "$nin":
      return !(operand as unknown[]).some((candidate) => sameValue(field, candidate));
  }
}

/** Strict equality for scalars, structural equality for objects and arrays. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => sameValue(item, other[i]));
  }
  const left = Object.keys(a);
  const right = b as Record<string, unknown>;
  return left.length === Object.keys(right).length &&
    left.every((key) => Object.prototype.hasOwnProperty.call(right, key) && sameValue((a as Record<string, unknown>)[key], right[key]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
