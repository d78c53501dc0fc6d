import type { MemoryRecord } from "../core/types.js";
import type { StoreFilter } from "./types.js";

/**
 * A `StoreFilter` applied to a record in process, with the same meaning as the Chroma `where` that
 * `whereFor` builds (store/chroma_where.ts): every field ANDed, `createdAfter` inclusive,
 * `createdBefore` exclusive, metadata by exact value. Used where recall ranks a user's memories
 * from its in-process index instead of asking the store. The user is not part of it: an index
 * only ever holds one user's records.
 */
export function matchesFilter(record: MemoryRecord, filter: StoreFilter = {}): boolean {
  if (filter.kind !== undefined) {
    const kinds = Array.isArray(filter.kind) ? filter.kind : [filter.kind];
    if (!kinds.includes(record.kind)) return false;
  }
  if (filter.agentId !== undefined && record.scope.agentId !== filter.agentId) return false;
  if (filter.threadId !== undefined && record.scope.threadId !== filter.threadId) return false;
  if (filter.createdAfter !== undefined && !(record.createdAt >= filter.createdAfter)) return false;
  if (filter.createdBefore !== undefined && !(record.createdAt < filter.createdBefore)) return false;
  for (const [key, value] of Object.entries(filter.metadata ?? {})) {
    if (record.metadata[key] !== value) return false;
  }
  return true;
}
