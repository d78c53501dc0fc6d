import type { Where } from "chromadb";
import type { FilterCondition } from "./langgraph/filter.js";
import { clampShadow, isExactOperand, isShadowScalar, numberKey, valueKey, type ShadowScalar } from "./langgraph/shadows.js";
import type { StoreFilter } from "./types.js";

/*
 * The one place that builds a Chroma `where`: for the records of `Memory` (`whereFor`) and for
 * the items of the LangGraph store (`itemRowWhere`, `itemFilterClauses`, `itemPrefixClauses`,
 * `expiredItemsWhere`). Values reach these already validated, so nothing a caller passes can
 * become an operator.
 */

/**
 * A user and a filter as a `where` over records. Values have been validated as plain scalars
 * (core/scope.ts, core/validate.ts). The user id is always part of the filter, inside the user's
 * own collection too: defence in depth should two users ever share a collection.
 */
export function whereFor(userId: string, filter: StoreFilter = {}): Where {
  const clauses: Where[] = [{ userId: { $eq: userId } }];
  if (filter.kind !== undefined) {
    const kinds = Array.isArray(filter.kind) ? filter.kind : [filter.kind];
    clauses.push(kinds.length === 1 ? { kind: { $eq: kinds[0]! } } : { kind: { $in: kinds } });
  }
  if (filter.agentId !== undefined) clauses.push({ agentId: { $eq: filter.agentId } });
  if (filter.threadId !== undefined) clauses.push({ threadId: { $eq: filter.threadId } });
  if (filter.createdAfter !== undefined) clauses.push({ createdAt: { $gte: filter.createdAfter } });
  if (filter.createdBefore !== undefined) clauses.push({ createdAt: { $lt: filter.createdBefore } });
  for (const [key, value] of Object.entries(filter.metadata ?? {})) {
    clauses.push({ [key]: { $eq: value } } as Where);
  }
  return allOf(clauses)!;
}

/** ANDs clauses the way Chroma wants: no `$and` around a single clause; undefined for none. */
export function allOf(clauses: Where[]): Where | undefined {
  if (clauses.length === 0) return undefined;
  return clauses.length === 1 ? clauses[0] : { $and: clauses };
}

function anyOf(clauses: Where[]): Where | undefined {
  if (clauses.length === 0) return undefined;
  return clauses.length === 1 ? clauses[0] : { $or: clauses };
}

/**
 * Which rows of a LangGraph store collection (store/langgraph/rows.ts) a read wants, ANDed with
 * `clauses`: item rows, rows with a real vector (item and extra rows) for a query, or the item
 * rows with nothing embedded.
 */
export function itemRowWhere(kind: "item" | "vectors" | "unembedded", clauses: Where[] = []): Where {
  const own: Where[] =
    kind === "item" ? [{ _row: { $eq: "item" } }] : kind === "vectors" ? [{ _vec: { $eq: true } }] : [{ _row: { $eq: "item" } }, { _vec: { $eq: false } }];
  return allOf([...own, ...clauses])!;
}

/** Item rows expired at `now` (the sweep's). */
export function expiredItemsWhere(now: number): Where {
  return allOf([{ _row: { $eq: "item" } }, { _expires: { $lte: now } }])!;
}

/**
 * Clauses for "namespace starts with `prefix`". The first label is skipped: it chose the
 * collection. The namespace is checked again in process, so a hash collision between two first
 * labels could never mix them.
 */
export function itemPrefixClauses(prefix: readonly string[]): Where[] {
  const clauses: Where[] = [];
  prefix.forEach((label, i) => {
    if (i > 0) clauses.push({ [`_ns${i}`]: { $eq: label } });
  });
  return clauses;
}

/**
 * The clauses a LangGraph store filter can safely narrow candidates with (ANDed by the caller),
 * over the `v:` / `n:` shadows of store/langgraph/shadows.ts.
 *
 * The `where` built here is only a pre-filter: every candidate is checked again in process with
 * the exact meaning (store/langgraph/filter.ts). So the one rule is that it must never drop an
 * item the exact filter keeps. Each clause below says why it cannot; what cannot be pushed that
 * way stays in process only. Chroma 1.0 quirks measured on the server (probes in docs/store.md):
 * - a float operand compared with an integer field is truncated (`$gte 1.5` keeps 1, `$in [1.5]`
 *   keeps 1): harmless for `$eq`, `$in` and non-strict ranges (only extra candidates), wrong for
 *   `$ne` / `$nin` (`$ne 1.5` drops 1), so those are pushed only with string, boolean or integer
 *   operands;
 * - `$in` needs one type per list: mixed lists become an `$or` of one list per type;
 * - a missing key passes `$ne` and `$nin`, as a missing field does in process;
 * - strict ranges are pushed as non-strict (`$gt` as `$gte`): clamping can make two different
 *   numbers equal, never reverse their order.
 */
export function itemFilterClauses(conditions: readonly FilterCondition[]): Where[] {
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

type ChromaType = "string" | "boolean" | "int" | "float";

function operatorClause(key: string, operator: string, operand: unknown): Where | undefined {
  switch (operator) {
    case "$eq":
      return isShadowScalar(operand) ? { [valueKey(key)]: { $eq: operand } } : undefined;
    case "$ne":
      return isExactOperand(operand) ? { [valueKey(key)]: { $ne: operand } } : undefined;
    case "$in": {
      const list = operand as unknown[];
      if (list.length === 0 || !list.every(isShadowScalar)) return undefined;
      return anyOf(byType(list as ShadowScalar[]).map((group) => membership(valueKey(key), "$in", group)));
    }
    case "$nin": {
      const list = operand as unknown[];
      if (list.length === 0 || !list.every(isExactOperand)) return undefined;
      return allOf(byType(list as ShadowScalar[]).map((group) => membership(valueKey(key), "$nin", group)));
    }
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte": {
      const number = Number(operand);
      if (Number.isNaN(number)) return undefined;
      const bound = clampShadow(number);
      return { [numberKey(key)]: operator === "$gt" || operator === "$gte" ? { $gte: bound } : { $lte: bound } };
    }
    default:
      return undefined;
  }
}

function membership(key: string, operator: "$in" | "$nin", group: ShadowScalar[]): Where {
  if (group.length === 1) return { [key]: operator === "$in" ? { $eq: group[0]! } : { $ne: group[0]! } };
  return { [key]: operator === "$in" ? { $in: group } : { $nin: group } } as Where;
}

/** The distinct values by Chroma type, in first-seen order (a Set: a 50,000-value `$in` was quadratic, 4 s). */
function byType(values: ShadowScalar[]): ShadowScalar[][] {
  const groups = new Map<ChromaType, Set<ShadowScalar>>();
  for (const value of values) {
    const type = chromaType(value);
    const group = groups.get(type) ?? new Set<ShadowScalar>();
    group.add(value);
    groups.set(type, group);
  }
  return [...groups.values()].map((group) => [...group]);
}

function chromaType(value: ShadowScalar): ChromaType {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  return Number.isInteger(value) ? "int" : "float";
}
