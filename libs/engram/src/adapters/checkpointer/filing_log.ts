import type Database from "better-sqlite3";
import { runSql } from "../../store/sqlite.js";
import type { FilingState, PendingFiling as StatePendingFiling } from "../../state/types.js";
import type { FilableMessage } from "./messages.js";

/** Messages of one thread waiting to be filed into one user's long-term memory. */
export type PendingFiling = StatePendingFiling<FilableMessage>;

interface FilingRow {
  seq: number;
  thread_id: string;
  user_id: string;
  messages: string;
  attempts: number;
}

/** How many (thread, user) key sets the in-process cache keeps before it drops the oldest. */
const CACHED_THREADS = 1_000;

/**
 * The checkpointer's bookkeeping, in SQLite: which messages of which thread were already taken
 * for which user (so nothing is filed twice, across restarts too), and a durable queue of the
 * filings not yet done (so a crash between `put()` and the embedding loses nothing). The first
 * table also answers "which users filed into this thread", which `deleteThread` needs.
 *
 * It implements the `FilingState` of the state contract; its methods answer from better-sqlite3
 * synchronously inside their promises, so `put()` records its filing before it returns.
 */
export class FilingLog implements FilingState<FilableMessage> {
  /** Keys known to be taken, per thread and user: spares the database most per-put lookups. */
  private readonly known = new Map<string, Set<string>>();

  private ready = false;

  constructor(private readonly db: Database.Database) {}

  /**
   * Takes the messages not taken before for this thread and user, and queues them, atomically.
   * Returns the messages queued (empty when all were taken already).
   */
  async take(threadId: string, userId: string, messages: FilableMessage[]): Promise<FilableMessage[]> {
    const cacheKey = `${threadId}\u0000${userId}`;
    const known = this.known.get(cacheKey) ?? new Set<string>();
    const candidates = messages.filter((message) => !known.has(message.key));
    if (candidates.length === 0) return [];
    this.setup();
    const fresh = runSql(this.db, "checkpointer.take", () =>
      this.db.transaction(() => {
        const insert = this.db.prepare(
          "INSERT OR IGNORE INTO engram_checkpointer_filed (thread_id, user_id, message_key) VALUES (?, ?, ?)",
        );
        const taken = candidates.filter((message) => insert.run(threadId, userId, message.key).changes === 1);
        if (taken.length > 0) {
          this.db
            .prepare("INSERT INTO engram_checkpointer_queue (thread_id, user_id, messages, created_at) VALUES (?, ?, ?, ?)")
            .run(threadId, userId, JSON.stringify(taken), Date.now());
        }
        return taken;
      })(),
    );
    for (const message of candidates) known.add(message.key);
    this.remember(cacheKey, known);
    return fresh;
  }

  /** The oldest filings waiting, at most `limit`. */
  async pending(limit: number): Promise<PendingFiling[]> {
    this.setup();
    const rows = runSql(this.db, "checkpointer.pending", () =>
      this.db
        .prepare<[number], FilingRow>(
          "SELECT seq, thread_id, user_id, messages, attempts FROM engram_checkpointer_queue ORDER BY seq LIMIT ?",
        )
        .all(limit),
    );
    return rows.map((row) => ({
      seq: row.seq,
      threadId: row.thread_id,
      userId: row.user_id,
      messages: JSON.parse(row.messages) as FilableMessage[],
      attempts: row.attempts,
    }));
  }

  /** How many filings wait. */
  async size(): Promise<number> {
    this.setup();
    return runSql(this.db, "checkpointer.size", () =>
      this.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM engram_checkpointer_queue").get()!.n,
    );
  }

  /** Removes filings that are done. */
  async complete(seqs: number[]): Promise<void> {
    this.setup();
    runSql(this.db, "checkpointer.complete", () => {
      const remove = this.db.prepare("DELETE FROM engram_checkpointer_queue WHERE seq = ?");
      this.db.transaction(() => seqs.forEach((seq) => remove.run(seq)))();
    });
  }

  /** Notes a failed attempt; the filings stay queued. */
  async fail(seqs: number[], error: string): Promise<void> {
    this.setup();
    runSql(this.db, "checkpointer.fail", () => {
      const note = this.db.prepare("UPDATE engram_checkpointer_queue SET attempts = attempts + 1, last_error = ? WHERE seq = ?");
      this.db.transaction(() => seqs.forEach((seq) => note.run(error, seq)))();
    });
  }

  /** Every user who filed (or waits to file) messages of the thread. */
  async usersOf(threadId: string): Promise<string[]> {
    this.setup();
    return runSql(this.db, "checkpointer.usersOf", () =>
      this.db
        .prepare<[string, string], { user_id: string }>(
          `SELECT DISTINCT user_id FROM engram_checkpointer_filed WHERE thread_id = ?
           UNION SELECT DISTINCT user_id FROM engram_checkpointer_queue WHERE thread_id = ?`,
        )
        .all(threadId, threadId)
        .map((row) => row.user_id),
    );
  }

  /** Drops the thread's waiting filings, so nothing of it reaches memory any more. Returns how many. */
  async dropPending(threadId: string): Promise<number> {
    this.setup();
    return runSql(this.db, "checkpointer.dropPending", () =>
      this.db.prepare("DELETE FROM engram_checkpointer_queue WHERE thread_id = ?").run(threadId).changes,
    );
  }

  /** Forgets which of the thread's messages were taken: a new thread with the same id starts fresh. */
  async forgetThread(threadId: string): Promise<void> {
    this.setup();
    runSql(this.db, "checkpointer.forgetThread", () =>
      this.db.prepare("DELETE FROM engram_checkpointer_filed WHERE thread_id = ?").run(threadId),
    );
    for (const key of [...this.known.keys()]) {
      if (key.startsWith(`${threadId}\u0000`)) this.known.delete(key);
    }
  }

  /** Erasure of a user: their taken keys and waiting filings of every thread. Returns how many rows. */
  async deleteUser(userId: string): Promise<number> {
    this.setup();
    const removed = runSql(this.db, "checkpointer.deleteUser", () =>
      this.db.transaction(
        () =>
          this.db.prepare("DELETE FROM engram_checkpointer_filed WHERE user_id = ?").run(userId).changes +
          this.db.prepare("DELETE FROM engram_checkpointer_queue WHERE user_id = ?").run(userId).changes,
      )(),
    );
    for (const key of [...this.known.keys()]) {
      if (key.endsWith(`\u0000${userId}`)) this.known.delete(key);
    }
    return removed;
  }

  private remember(cacheKey: string, keys: Set<string>): void {
    // Re-inserting moves the entry to the end, so the first one is the least recently used.
    this.known.delete(cacheKey);
    this.known.set(cacheKey, keys);
    if (this.known.size > CACHED_THREADS) this.known.delete(this.known.keys().next().value!);
  }

  private setup(): void {
    if (this.ready) return;
    runSql(this.db, "checkpointer.setup", () =>
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS engram_checkpointer_filed (
          thread_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          message_key TEXT NOT NULL,
          PRIMARY KEY (thread_id, user_id, message_key)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS engram_checkpointer_queue (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          thread_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          messages TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT
        );
        CREATE INDEX IF NOT EXISTS engram_checkpointer_queue_thread ON engram_checkpointer_queue (thread_id);
      `),
    );
    this.ready = true;
  }
}
