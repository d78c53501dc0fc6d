import { describeValue } from "../../core/describe.js";
import { EngramError } from "../../core/errors.js";
import { parseFilter, type FilterCondition } from "./filter.js";
import type { NamespaceMatch } from "./namespaces.js";
import { validateCount, validateKey, validateMatchPath, validateNamespace, validatePutIndex, validateTtl, validateValue } from "./validate.js";
import type { WriteRequest } from "./writer.js";

/*
 * Checking one store operation and saying what to do: LangGraph's operation shapes (get, search,
 * put / delete, listNamespaces) plus Engram's `refreshTtl` and `ttl`, read as plain objects and
 * refused with an `EngramError` before anything runs.
 */

/** One checked operation of a batch. */
export type Plan =
  | { kind: "get"; namespace: string[]; key: string; refresh: boolean }
  | { kind: "search"; prefix: string[]; filter: FilterCondition[]; limit: number; offset: number; query?: string; refresh: boolean }
  | { kind: "write"; request: WriteRequest }
  | { kind: "list"; matchConditions?: NamespaceMatch[]; maxDepth?: number; limit: number; offset: number };

/** Checks one operation; `refreshOnRead` is the store's default for a read's `refreshTtl`. */
export function planOperation(operation: unknown, refreshOnRead: boolean): Plan {
  if (operation === null || typeof operation !== "object") {
    throw new EngramError("INVALID_OPTIONS", `A store operation must be an object, got ${operation === null ? "null" : typeof operation}.`);
  }
  const op = operation as Record<string, unknown>;
  if ("namespacePrefix" in op) {
    if (op.query !== undefined && typeof op.query !== "string") {
      throw new EngramError("INVALID_OPTIONS", `query must be a string, got ${typeof op.query}.`);
    }
    return {
      kind: "search",
      prefix: validateNamespace(op.namespacePrefix, { allowEmpty: true }),
      filter: parseFilter(op.filter),
      limit: validateCount(op.limit, "limit", 10)!,
      offset: validateCount(op.offset, "offset", 0)!,
      query: (op.query as string | undefined) || undefined,
      refresh: refreshFlag(op.refreshTtl, refreshOnRead),
    };
  }
  if ("namespace" in op && "key" in op) {
    const namespace = validateNamespace(op.namespace);
    const key = validateKey(op.key);
    if (!("value" in op)) return { kind: "get", namespace, key, refresh: refreshFlag(op.refreshTtl, refreshOnRead) };
    if (op.value === null) return { kind: "write", request: { namespace, key, value: null, index: undefined, ttl: undefined } };
    validateNamespace(namespace, { forWrite: true });
    return {
      kind: "write",
      request: { namespace, key, value: validateValue(op.value), index: validatePutIndex(op.index), ttl: validateTtl(op.ttl) },
    };
  }
  if ("matchConditions" in op || "limit" in op || "maxDepth" in op) {
    const conditions = op.matchConditions;
    if (conditions !== undefined && !Array.isArray(conditions)) {
      throw new EngramError("INVALID_OPTIONS", "matchConditions must be a list.");
    }
    return {
      kind: "list",
      matchConditions: conditions?.map((condition: unknown) => checkCondition(condition)),
      maxDepth: validateCount(op.maxDepth, "maxDepth", undefined, 1),
      limit: validateCount(op.limit, "limit", 100)!,
      offset: validateCount(op.offset, "offset", 0)!,
    };
  }
  throw new EngramError("INVALID_OPTIONS", `Unknown store operation with fields ${Object.keys(op).join(", ") || "(none)"}.`);
}

function refreshFlag(value: unknown, refreshOnRead: boolean): boolean {
  if (value === undefined || value === null) return refreshOnRead;
  if (typeof value !== "boolean") throw new EngramError("INVALID_TTL", `refreshTtl must be a boolean, got ${typeof value}.`);
  return value;
}

function checkCondition(condition: unknown): NamespaceMatch {
  const raw = (condition ?? {}) as Partial<NamespaceMatch>;
  if (raw.matchType !== "prefix" && raw.matchType !== "suffix") {
    throw new EngramError("INVALID_OPTIONS", `matchType must be "prefix" or "suffix", got ${describeValue(raw.matchType)}.`);
  }
  return { matchType: raw.matchType, path: validateMatchPath(raw.path, raw.matchType) };
}
