import type { MemoryRecord } from "../core/types.js";
import { LexicalIndex } from "../scoring/lexical_index.js";

interface Entry {
  id: string;
  createdAt: number;
}

/**
 * What recall keeps in process for one user: the BM25 index of their memories, and the order of
 * memories within each thread, so that a memory's neighbouring turns can be found.
 */
export class UserIndex {
  readonly lexical = new LexicalIndex();

  /** Thread of each memory that has one. */
  private readonly threadOf = new Map<string, string>();

  /** Each thread's memories in time order (sorted lazily after writes). */
  private readonly threads = new Map<string, { entries: Entry[]; sorted: boolean }>();

  get size(): number {
    return this.lexical.size;
  }

  upsert(records: MemoryRecord[]): void {
    this.lexical.upsert(records.map((record) => ({ id: record.id, text: record.content })));
    for (const record of records) {
      this.detach(record.id);
      const threadId = record.scope.threadId ?? record.source.threadId;
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
    for (const id of ids) this.detach(id);
  }

  /** The memories just before and after this one in its thread (none without a thread). */
  neighbours(id: string): string[] {
    const threadId = this.threadOf.get(id);
    const thread = threadId === undefined ? undefined : this.threads.get(threadId);
    if (!thread) return [];
    if (!thread.sorted) {
      thread.entries.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
      thread.sorted = true;
    }
    const at = thread.entries.findIndex((entry) => entry.id === id);
    return [thread.entries[at - 1]?.id, thread.entries[at + 1]?.id].filter((n): n is string => n !== undefined);
  }

  private detach(id: string): void {
    const threadId = this.threadOf.get(id);
    if (threadId === undefined) return;
    this.threadOf.delete(id);
    const thread = this.threads.get(threadId);
    if (thread) thread.entries = thread.entries.filter((entry) => entry.id !== id);
  }
}
