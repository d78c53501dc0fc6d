/** The checkpointer's filing log in the SQLite state: what was filed per thread and user, and filings to do. */
import type Database from "better-sqlite3";
import { ERASED_OWNER } from "../erased_owner.js";
import { THREAD_CLAIM_KEY, type FilingMessage, type FilingState, type PendingFiling } from "../types.js";
import { runSql, type SqliteHandle } from "./database.js";

interface FilingRow {
  seq: number;
  thread_id: string;
  user_id: string;
  messages: string;
  attempts: number;
}

/**
 * The checkpointer's bookkeeping, in SQLite: which messages of which thread were already taken
 * for which user (so nothing is filed twice, across restarts too), and a durable queue of the
 * filings not yet done (so a crash between `put()` and the embedding loses nothing). The first
 * table also answers "which users filed into this thread", which `deleteThread` needs.
 *
 * The methods answer from better-sqlite3 synchronously inside their promises.
 */
export class SqliteFilings<M extends FilingMessage = FilingMessage> implements FilingState<M> {
  private ready = false;

  constructor(private readonly handle: SqliteHandle) {}

  private get db(): Database.Database {
    return this.handle.db();
  }

  /**
   * Takes the messages not taken before for this thread and user, and queues them, atomically.
   * Returns the messages queued (empty when all were taken already, or when the thread is an erased
   * user's: see `FilingState.take`).
   */
  async take(threadId: string, userId: string, messages: M[]): Promise<M[]> {
    if (messages.length === 0) return [];
    this.setup();
    // No cache of taken keys in process: another instance (or process) may forget the thread or
    // erase the user, and a stale cache would then skip messages that must be filed again.
    // Immediate: the owner check and the inserts are one step against another process's erasure.
    return runSql(this.db, "checkpointer.take", () =>
      this.db.transaction(() => {
        // A thread of an erased user (see `FilingState.take`).
        const owners = this.usersNow(threadId);
        if (owners.includes(ERASED_OWNER) && !owners.includes(userId)) return [];
        const insert = this.db.prepare(
          "INSERT OR IGNORE INTO engram_checkpointer_filed (thread_id, user_id, message_key) VALUES (?, ?, ?)",
        );
        const taken = messages.filter((message) => insert.run(threadId, userId, message.key).changes === 1);
        if (taken.length > 0) {
          this.db
            .prepare("INSERT INTO engram_checkpointer_queue (thread_id, user_id, messages, created_at) VALUES (?, ?, ?, ?)")
            .run(threadId, userId, JSON.stringify(taken), Date.now());
        }
        return taken;
      }).immediate(),
    );
  }

  /** The oldest filings waiting, at most `limit`. */
  async pending(limit: number): Promise<Array<PendingFiling<M>>> {
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
      messages: JSON.parse(row.messages) as M[],
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
    // ERASED_OWNER is no user: it only keeps the thread from being claimed (see `claim`).
    return runSql(this.db, "checkpointer.usersOf", () => this.usersNow(threadId).filter((user) => user !== ERASED_OWNER));
  }

  private usersNow(threadId: string): string[] {
    return this.db
      .prepare<[string, string], { user_id: string }>(
        `SELECT DISTINCT user_id FROM engram_checkpointer_filed WHERE thread_id = ?
         UNION SELECT DISTINCT user_id FROM engram_checkpointer_queue WHERE thread_id = ?`,
      )
      .all(threadId, threadId)
      .map((row) => row.user_id);
  }

  /** See `FilingState.claim`: BEGIN IMMEDIATE makes the read and the claim one step across processes. */
  async claim(threadId: string, userId: string): Promise<string[]> {
    this.setup();
    return runSql(this.db, "checkpointer.claim", () => {
      // A thread with users keeps them until it is forgotten: every run of it after the first
      // (each getTuple and put) answers from a read, without taking the write lock.
      const known = this.usersNow(threadId);
      if (known.length > 0) return known;
      return this.db
        .transaction(() => {
          const users = this.usersNow(threadId);
          if (users.length > 0) return users;
          this.db
            .prepare("INSERT OR IGNORE INTO engram_checkpointer_filed (thread_id, user_id, message_key) VALUES (?, ?, ?)")
            .run(threadId, userId, THREAD_CLAIM_KEY);
          return [userId];
        })
        .immediate();
    });
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
  }

  /**
   * Erasure of a user: their taken keys and waiting filings of every thread, their threads left
   * to `ERASED_OWNER` (as `StateBackend.deleteUser` does), in one transaction. Returns how many
   * rows of the user went.
   */
  async deleteUser(userId: string): Promise<number> {
    this.setup();
    const removed = runSql(this.db, "checkpointer.deleteUser", () =>
      this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT OR IGNORE INTO engram_checkpointer_filed (thread_id, user_id, message_key)
             SELECT thread_id, ?, ? FROM engram_checkpointer_filed WHERE user_id = ?
             UNION SELECT thread_id, ?, ? FROM engram_checkpointer_queue WHERE user_id = ?`,
          )
          .run(ERASED_OWNER, THREAD_CLAIM_KEY, userId, ERASED_OWNER, THREAD_CLAIM_KEY, userId);
        return (
          this.db.prepare("DELETE FROM engram_checkpointer_filed WHERE user_id = ?").run(userId).changes +
          this.db.prepare("DELETE FROM engram_checkpointer_queue WHERE user_id = ?").run(userId).changes
        );
      }).immediate(),
    );
    return removed;
  }

  /** The seqs of `seqs` still queued (not done, dropped nor erased since they were read). */
  async queued(seqs: number[]): Promise<number[]> {
    if (seqs.length === 0) return [];
    this.setup();
    return runSql(this.db, "checkpointer.queued", () =>
      this.db
        .prepare<number[], { seq: number }>(`SELECT seq FROM engram_checkpointer_queue WHERE seq IN (${seqs.map(() => "?").join(", ")})`)
        .all(...seqs)
        .map((row) => row.seq),
    );
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
