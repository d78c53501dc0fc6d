import type { Where } from "chromadb";
import type { StoreFilter } from "./types.js";

/**
 * The one place that turns a user and a filter into a Chroma `where`. Values here have already
 * been validated as plain scalars (core/scope.ts, core/validate.ts), so nothing a caller passes
 * can become an operator. The user id is always part of the filter, inside the user's own
 * collection too: defence in depth should two users ever share a collection.
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
  return clauses.length === 1 ? clauses[0]! : { $and: clauses };
}
