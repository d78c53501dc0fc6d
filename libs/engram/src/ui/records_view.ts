import { isCurrent } from "../consolidation/validity.js";
import type { MemoryKind, MemoryRecord } from "../core/types.js";
import type { ListQuery } from "./schemas.js";

/** One page of a user's memories, as the list page shows it. */
export interface RecordPage {
  records: MemoryRecord[];
  /** How many records match the filters (all pages). */
  matching: number;
  page: number;
  pages: number;
}

/**
 * Filters, sorts and cuts one page out of a user's records. Linear in the records (one pass to
 * filter, a sort of the matches only when the order is not the stored one), so a page of a
 * 100,000-record user costs tens of milliseconds once the records are in memory.
 */
export function pageOf(records: readonly MemoryRecord[], query: ListQuery, now: number): RecordPage {
  const text = query.text?.trim().toLowerCase();
  // Exact, as ids are everywhere: " t" and "t" are two threads (the select offers both).
  const thread = query.thread;
  const matches = records.filter((record) => {
    if (query.kind !== undefined && record.kind !== query.kind) return false;
    if (thread && record.scope.threadId !== thread && record.source.threadId !== thread) return false;
    if (query.validity !== "all" && isCurrent(record, now) !== (query.validity === "current")) return false;
    return !text || record.content.toLowerCase().includes(text);
  });
  // `records` come newest first (the store's order): only the other orders sort.
  if (query.sort === "oldest") matches.reverse();
  else if (query.sort === "importance") matches.sort((a, b) => b.importance - a.importance || b.createdAt - a.createdAt);
  const pages = Math.max(1, Math.ceil(matches.length / query.size));
  const page = Math.min(query.page, pages);
  return { records: matches.slice((page - 1) * query.size, page * query.size), matching: matches.length, page, pages };
}

/** What the charts of a user's page draw. */
export interface RecordStats {
  total: number;
  byKind: Record<MemoryKind, number>;
  /** Memories created per UTC day, oldest day first, days without any included (at most the last 60 days with data). */
  perDay: Array<{ day: string; count: number }>;
  /** Importance in ten bins: [0, 0.1), [0.1, 0.2) ... [0.9, 1]. */
  importance: number[];
  threads: string[];
  /** Facts no longer true (`validUntil` passed). */
  invalid: number;
}

const DAY = 86_400_000;
const MAX_DAYS = 60;

export function statsOf(records: readonly MemoryRecord[], now: number): RecordStats {
  const byKind: Record<MemoryKind, number> = { episode: 0, fact: 0, summary: 0, procedure: 0 };
  const importance = new Array<number>(10).fill(0);
  const days = new Map<number, number>();
  const threads = new Set<string>();
  let invalid = 0;
  for (const record of records) {
    byKind[record.kind] += 1;
    importance[Math.min(9, Math.max(0, Math.floor(record.importance * 10)))]! += 1;
    const day = Math.floor(record.createdAt / DAY);
    days.set(day, (days.get(day) ?? 0) + 1);
    const thread = record.scope.threadId ?? record.source.threadId;
    if (thread !== undefined) threads.add(thread);
    if (!isCurrent(record, now)) invalid += 1;
  }
  const perDay: RecordStats["perDay"] = [];
  if (days.size > 0) {
    const last = Math.max(...days.keys());
    const first = Math.max(Math.min(...days.keys()), last - MAX_DAYS + 1);
    for (let day = first; day <= last; day += 1) perDay.push({ day: new Date(day * DAY).toISOString().slice(0, 10), count: days.get(day) ?? 0 });
  }
  return { total: records.length, byKind, perDay, importance, threads: [...threads].sort(), invalid };
}

/** The records of a thread, in conversation order (oldest first). */
export function threadOf(records: readonly MemoryRecord[], threadId: string): MemoryRecord[] {
  return records
    .filter((record) => record.scope.threadId === threadId || record.source.threadId === threadId)
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}
