/** The in-process index of one user's memories that recall searches (vectors, BM25, thread order). */
import type { MemoryRecord } from "../core/types.js";
import { LexicalIndex } from "../scoring/lexical_index.js";
import { VectorIndex } from "../scoring/vector_index.js";
import { matchesFilter } from "../store/filter_match.js";
import type { StoredRecord, StoreFilter } from "../store/types.js";
import { LexicalStats } from "./pending_lexical.js";

interface Entry {
  id: string;
  createdAt: number;
}

/**
 * What recall keeps in process for one user: their records and vectors (exact cosine search with
 * no store round trip), the BM25 index of their memories, and the order of memories within each
 * thread, so that a memory's neighbouring turns can be found.
 */
export class UserIndex {
  readonly lexical = new LexicalIndex();
  readonly vectors = new VectorIndex();
  private readonly records = new Map<string, MemoryRecord>();

  /** Thread of each memory that has one. */
  private readonly threadOf = new Map<string, string>();

  /** Each thread's memories in time order (sorted lazily after writes). */
  private readonly threads = new Map<string, { entries: Entry[]; sorted: boolean }>();

  /** BM25 statistics for scoring queued memories (pending_lexical.ts); built on first use. */
  private stats?: LexicalStats;

  get size(): number {
    return this.lexical.size;
  }

  lexicalStats(): LexicalStats {
    if (!this.stats) {
      this.stats = new LexicalStats();
      for (const record of this.records.values()) this.stats.add(record.content);
    }
    return this.stats;
  }

  record(id: string): MemoryRecord | undefined {
    return this.records.get(id);
  }

  /**
   * The records matching `filter`, newest first (ties by id), as the store lists them: copies, so
   * a caller changing one changes nothing kept here, in the form the store reads back (an empty
   * `messageIds` is not stored).
   */
  list(filter: StoreFilter): MemoryRecord[] {
    const found: MemoryRecord[] = [];
    for (const record of this.records.values()) if (matchesFilter(record, filter)) found.push(storedCopy(record));
    return found.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  }

  /** A copy of one record as the store returns it ({@link list}), or undefined. */
  stored(id: string): MemoryRecord | undefined {
    const record = this.records.get(id);
    return record && storedCopy(record);
  }

  upsert(items: StoredRecord[]): void {
    const records = items.map((item) => item.record);
    this.lexical.upsert(records.map((record) => ({ id: record.id, text: record.content })));
    for (const item of items) {
      const before = this.records.get(item.record.id);
      if (this.stats) {
        if (before) this.stats.remove(before.content);
        this.stats.add(item.record.content);
      }
      this.records.set(item.record.id, item.record);
      this.vectors.upsert(item.record.id, item.embedding);
    }
    for (const record of records) {
      this.detach(record.id);
      const threadId = threadOfRecord(record);
      if (threadId === undefined) continue;
      this.threadOf.set(record.id, threadId);
      const thread = this.threads.get(threadId) ?? { entries: [], sorted: true };
      thread.entries.push({ id: record.id, createdAt: record.createdAt });
      thread.sorted = false;
      this.threads.set(threadId, thread);
    }
  }

  remove(ids: string[]): void {
    this.lexical.remove(ids);
    for (const id of ids) {
      const before = this.records.get(id);
      if (before && this.stats) this.stats.remove(before.content);
      this.records.delete(id);
      this.vectors.remove(id);
      this.detach(id);
    }
  }

  /** The memories just before and after this one in its thread (none without a thread). */
  neighbours(id: string): string[] {
    const threadId = this.threadOf.get(id);
    const thread = threadId === undefined ? undefined : this.threads.get(threadId);
    if (!thread) return [];
    return around(this.sorted(thread), id);
  }

  /**
   * {@link neighbours} once queued writes land: `queued` records replace or join their threads and
   * `removed` ids leave them. A search ranking stored and queued memories together thus links each
   * to the same turns whether the drain has run yet or not.
   */
  neighboursWith(queued: readonly MemoryRecord[], removed: ReadonlySet<string>): (id: string) => string[] {
    if (queued.length === 0 && removed.size === 0) return (id) => this.neighbours(id);
    const changed = new Set<string>([...removed, ...queued.map((record) => record.id)]);
    const joining = new Map<string, Entry[]>();
    const queuedThread = new Map<string, string>();
    for (const record of queued) {
      const threadId = threadOfRecord(record);
      if (threadId === undefined) continue;
      queuedThread.set(record.id, threadId);
      const entries = joining.get(threadId);
      if (entries) entries.push({ id: record.id, createdAt: record.createdAt });
      else joining.set(threadId, [{ id: record.id, createdAt: record.createdAt }]);
    }
    const touched = new Set<string>(joining.keys());
    for (const id of changed) {
      const threadId = this.threadOf.get(id);
      if (threadId !== undefined) touched.add(threadId);
    }
    // Touched threads are merged when first asked for: only candidates' threads are.
    const merged = new Map<string, Entry[]>();
    const entriesOf = (threadId: string): Entry[] => {
      let entries = merged.get(threadId);
      if (entries === undefined) {
        const stored = this.threads.get(threadId);
        const kept = stored ? this.sorted(stored).filter((entry) => !changed.has(entry.id)) : [];
        entries = [...kept, ...(joining.get(threadId) ?? [])].sort(byTime);
        merged.set(threadId, entries);
      }
      return entries;
    };
    return (id) => {
      if (removed.has(id)) return [];
      const threadId = queuedThread.get(id) ?? (changed.has(id) ? undefined : this.threadOf.get(id));
      if (threadId === undefined) return [];
      return touched.has(threadId) ? around(entriesOf(threadId), id) : this.neighbours(id);
    };
  }

  private sorted(thread: { entries: Entry[]; sorted: boolean }): Entry[] {
    if (!thread.sorted) {
      thread.entries.sort(byTime);
      thread.sorted = true;
    }
    return thread.entries;
  }

  private detach(id: string): void {
    const threadId = this.threadOf.get(id);
    if (threadId === undefined) return;
    this.threadOf.delete(id);
    const thread = this.threads.get(threadId);
    if (!thread) return;
    thread.entries = thread.entries.filter((entry) => entry.id !== id);
    // A thread whose memories all left (deleted, forgotten, moved) is forgotten too: a user kept
    // warm for weeks would otherwise keep an empty entry for every conversation they ever had.
    if (thread.entries.length === 0) this.threads.delete(threadId);
  }
}

/** The thread a record's neighbours are read in: its scope's, else the one it came from. */
function threadOfRecord(record: MemoryRecord): string | undefined {
  return record.scope.threadId ?? record.source.threadId;
}

function byTime(a: Entry, b: Entry): number {
  return a.createdAt - b.createdAt || a.id.localeCompare(b.id);
}

/** The ids just before and after `id` in time-ordered entries. */
function around(entries: readonly Entry[], id: string): string[] {
  const at = entries.findIndex((entry) => entry.id === id);
  if (at < 0) return [];
  return [entries[at - 1]?.id, entries[at + 1]?.id].filter((n): n is string => n !== undefined);
}

/** A record as the store returns it from a read: its own objects, and no empty message id list. */
function storedCopy(record: MemoryRecord): MemoryRecord {
  const { messageIds, ...source } = record.source;
  const copy: MemoryRecord = { ...record, scope: { ...record.scope }, source, metadata: { ...record.metadata } };
  if (messageIds !== undefined && messageIds.length > 0) copy.source.messageIds = [...messageIds];
  return copy;
}
