/** The history log of the SQLite state: what happened to each memory, in the `history` table. */
import type Database from "better-sqlite3";
import type { HistoryEntry, HistoryEvent } from "../../core/types.js";
import type { HistoryState, NewHistoryEntry } from "../types.js";
import { groupByMemory, stampHistory } from "../history_stamp.js";
import { runSql, type SqliteHandle } from "./database.js";

interface HistoryRow {
  id: string;
  memory_id: string;
  user_id: string;
  event: HistoryEvent;
  old_content: string | null;
  new_content: string | null;
  at: number;
  reason: string | null;
}

interface Statements {
  insert: Database.Statement<[HistoryRow]>;
  forMemory: Database.Statement<[string, string], HistoryRow>;
  forMemories: Database.Statement<[string, string], HistoryRow>;
  deleteUser: Database.Statement<[string]>;
  countUser: Database.Statement<[string], { n: number }>;
  recordAll: (rows: HistoryRow[]) => void;
}

/**
 * Append-only log of what happened to each memory (added, updated, deleted, and why), kept in
 * SQLite next to the vector store so "why does my agent believe X?" can be answered even after
 * the memory itself was changed or removed. Every read and delete is scoped by user, so one
 * user's history is never returned for, or removed with, another's.
 *
 * The table is created on first use rather than in the constructor, so constructing is free and
 * synchronous and a log that is never used leaves the database untouched. `recordNow` is the
 * synchronous form, for a transaction that spans the outbox (state/sqlite/outbox.ts).
 */
export class SqliteHistory implements HistoryState {
  private statements: Statements | undefined;

  constructor(private readonly handle: SqliteHandle) {}

  private get db(): Database.Database {
    return this.handle.db();
  }

  async record(entries: NewHistoryEntry[]): Promise<HistoryEntry[]> {
    return this.recordNow(entries);
  }

  async forMemory(memoryId: string, userId: string): Promise<HistoryEntry[]> {
    return runSql(this.db, "history.forMemory", () => this.ensureReady().forMemory.all(userId, memoryId).map(fromRow));
  }

  /** One read for many memories (ids passed as one JSON array): the replay check of an import. */
  async forMemories(memoryIds: readonly string[], userId: string): Promise<Map<string, HistoryEntry[]>> {
    return runSql(this.db, "history.forMemories", () =>
      memoryIds.length === 0 ? new Map() : groupByMemory(this.ensureReady().forMemories.all(userId, JSON.stringify(memoryIds)).map(fromRow)),
    );
  }

  async deleteUser(userId: string): Promise<number> {
    return runSql(this.db, "history.deleteUser", () => this.ensureReady().deleteUser.run(userId).changes);
  }

  async latest(): Promise<Array<{ userId: string; at: number }>> {
    return runSql(this.db, "history.latest", () => {
      this.ensureReady();
      return this.db.prepare<[], { userId: string; at: number }>("SELECT user_id AS userId, MAX(at) AS at FROM history GROUP BY user_id").all();
    });
  }

  async countUser(userId: string): Promise<number> {
    return runSql(this.db, "history.countUser", () => this.ensureReady().countUser.get(userId)?.n ?? 0);
  }

  /**
   * Appends entries in one transaction (all or none) and returns them with their ids. Entries
   * without `at` get the clock's time, read once for the whole batch: a batch happens at one
   * instant, and its order is kept by insertion order.
   */
  recordNow(entries: NewHistoryEntry[]): HistoryEntry[] {
    return runSql(this.db, "history.record", () => {
      const statements = this.ensureReady();
      if (entries.length === 0) return [];
      const now = this.handle.clock();
      const recorded = stampHistory(entries, now);
      statements.recordAll(recorded.map(toRow));
      return recorded;
    });
  }

  /**
   * Creates the table and index when missing and prepares the statements, once per instance.
   * `seq` is the rowid: it only grows while rows of the same memory exist, so it breaks ties
   * between entries with the same `at` in insertion order.
   */
  private ensureReady(): Statements {
    if (this.statements) return this.statements;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS history (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        memory_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
        old_content TEXT,
        new_content TEXT,
        at INTEGER NOT NULL,
        reason TEXT
      );
      CREATE INDEX IF NOT EXISTS history_user_memory ON history (user_id, memory_id);
    `);
    const insert = this.db.prepare<[HistoryRow]>(
      `INSERT INTO history (id, memory_id, user_id, event, old_content, new_content, at, reason)
       VALUES (@id, @memory_id, @user_id, @event, @old_content, @new_content, @at, @reason)`,
    );
    this.statements = {
      insert,
      forMemory: this.db.prepare<[string, string], HistoryRow>(
        `SELECT id, memory_id, user_id, event, old_content, new_content, at, reason
         FROM history WHERE user_id = ? AND memory_id = ? ORDER BY at, seq`,
      ),
      forMemories: this.db.prepare<[string, string], HistoryRow>(
        `SELECT id, memory_id, user_id, event, old_content, new_content, at, reason
         FROM history WHERE user_id = ? AND memory_id IN (SELECT value FROM json_each(?)) ORDER BY at, seq`,
      ),
      deleteUser: this.db.prepare<[string]>("DELETE FROM history WHERE user_id = ?"),
      countUser: this.db.prepare<[string], { n: number }>(
        "SELECT COUNT(*) AS n FROM history WHERE user_id = ?",
      ),
      recordAll: this.db.transaction((rows: HistoryRow[]) => {
        for (const row of rows) insert.run(row);
      }),
    };
    return this.statements;
  }
}

function toRow(entry: HistoryEntry): HistoryRow {
  return {
    id: entry.id,
    memory_id: entry.memoryId,
    user_id: entry.userId,
    event: entry.event,
    old_content: entry.oldContent,
    new_content: entry.newContent,
    at: entry.at,
    reason: entry.reason,
  };
}

function fromRow(row: HistoryRow): HistoryEntry {
  return {
    id: row.id,
    memoryId: row.memory_id,
    userId: row.user_id,
    event: row.event,
    oldContent: row.old_content,
    newContent: row.new_content,
    at: row.at,
    reason: row.reason,
  };
}
