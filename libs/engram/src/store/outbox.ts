import type Database from "better-sqlite3";
import { EngramError } from "../core/errors.js";
import { runSql } from "./sqlite.js";
import { describeValue } from "../core/describe.js";

/** Options for {@link Outbox}. */
export interface OutboxOptions {
  /** An open connection, usually from `openDatabase(databaseFile(dataDir))`; not closed by the outbox. */
  db: Database.Database;
  /** Source of time in ms since the Unix epoch, replaceable in tests. @default Date.now */
  clock?: () => number;
}

/** A write to queue. */
export interface OutboxItem<T> {
  userId: string;
  /**
   * Idempotency key naming what the write is about, e.g. `"upsert:<recordId>"`. A newer write with
   * the same user and key supersedes a pending older one.
   */
  key: string;
  /** The write itself; stored as JSON, so it must survive `JSON.stringify` / `JSON.parse`. */
  payload: T;
}

/** A queued write waiting to be applied to the store. */
export interface PendingWrite<T> {
  /** Position in the queue; never reused, so a stale seq can never name a newer write. */
  seq: number;
  userId: string;
  key: string;
  payload: T;
  /** How many times applying it failed. */
  attempts: number;
  /** When it was queued (ms since epoch). */
  createdAt: number;
  /** Message of the last failure, or null when it never failed. */
  lastError: string | null;
}

/** Options for {@link Outbox.pending}. */
export interface PendingOptions {
  /** Only this user's writes. @default every user */
  userId?: string;
  /** At most this many (a non-negative integer). @default no limit */
  limit?: number;
}

interface OutboxRow {
  seq: number;
  user_id: string;
  key: string;
  payload: string;
  created_at: number;
  attempts: number;
  last_error: string | null;
}

interface NewRow {
  user_id: string;
  key: string;
  payload: string;
  created_at: number;
}

interface Statements {
  pendingAll: Database.Statement<[number], OutboxRow>;
  pendingUser: Database.Statement<[string, number], OutboxRow>;
  complete: Database.Statement<[string], { seq: number }>;
  fail: Database.Statement<[string, string]>;
  sizeAll: Database.Statement<[], { n: number }>;
  sizeUser: Database.Statement<[string], { n: number }>;
  find: Database.Statement<[string, string], OutboxRow>;
  deleteUser: Database.Statement<[string]>;
  enqueueAll: (rows: NewRow[]) => number[];
}

const COLUMNS = "seq, user_id, key, payload, created_at, attempts, last_error";

/**
 * A durable queue of store writes, kept in SQLite, so that an outage of the vector store loses
 * nothing: a write is queued (committed locally) first, applied to the store, and only then
 * removed with {@link complete}; a write that failed stays queued with its attempt count for a
 * later retry.
 *
 * Only the latest write of a (user, key) is kept: re-queueing a key replaces the pending row with a
 * new one at the back of the queue, so writes replay in the order they were last made, and a
 * worker that applied the old payload and then completes its (now gone) seq cannot drop the newer
 * write. `seq` is AUTOINCREMENT so completed seqs are never handed out again.
 *
 * The table is created on first use rather than in the constructor, so constructing is free and
 * synchronous.
 */
export class Outbox<T> {
  private readonly db: Database.Database;

  private readonly clock: () => number;

  private statements: Statements | undefined;

  constructor(options: OutboxOptions) {
    this.db = options.db;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Queues writes in one transaction (all or none) and returns their seqs, in the order given. A
   * pending write with the same user and key (including an earlier item of the same batch) is
   * replaced: its row is removed and the new payload gets a new seq, zero attempts and the current
   * time.
   * @throws EngramError `OUTBOX_ERROR` when a payload is not JSON-serialisable (nothing is queued).
   */
  enqueue(items: Array<OutboxItem<T>>): number[] {
    return runSql(this.db, "outbox.enqueue", () => {
      const statements = this.ensureReady();
      if (items.length === 0) return [];
      const now = this.clock();
      const rows = items.map((item, index) => ({
        user_id: item.userId,
        key: item.key,
        payload: serialise(item.payload, index),
        created_at: now,
      }));
      return statements.enqueueAll(rows);
    });
  }

  /** Queued writes, oldest first (the order they must be replayed in). */
  pending(options: PendingOptions = {}): Array<PendingWrite<T>> {
    const { userId, limit } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw new EngramError("INVALID_OPTIONS", `limit must be a non-negative integer, got ${describeValue(limit)}`);
    }
    return runSql(this.db, "outbox.pending", () => {
      const statements = this.ensureReady();
      // SQLite reads a negative LIMIT as "no limit".
      const max = limit ?? -1;
      const rows =
        userId === undefined
          ? statements.pendingAll.all(max)
          : statements.pendingUser.all(userId, max);
      return rows.map((row) => this.fromRow(row));
    });
  }

  /**
   * Removes applied writes and returns the seqs this call removed. Seqs that are no longer queued
   * (replaced, or completed by another drainer of the same file) are ignored and left out of the
   * result, so only one drainer records the history of a write.
   */
  complete(seqs: number[]): number[] {
    return runSql(this.db, "outbox.complete", () => {
      const statements = this.ensureReady();
      return seqs.length > 0 ? statements.complete.all(JSON.stringify(seqs)).map((row) => row.seq) : [];
    });
  }

  /** Records a failed attempt: `attempts` + 1 and `lastError` = `error`. Unknown seqs are ignored. */
  fail(seqs: number[], error: string): void {
    runSql(this.db, "outbox.fail", () => {
      const statements = this.ensureReady();
      if (seqs.length > 0) statements.fail.run(error, JSON.stringify(seqs));
    });
  }

  /** How many writes are queued, for one user or for everyone. */
  size(userId?: string): number {
    return runSql(this.db, "outbox.size", () => {
      const statements = this.ensureReady();
      const row = userId === undefined ? statements.sizeAll.get() : statements.sizeUser.get(userId);
      return row?.n ?? 0;
    });
  }

  /** The queued write of a (user, key), if one is pending. */
  find(userId: string, key: string): PendingWrite<T> | undefined {
    return runSql(this.db, "outbox.find", () => {
      const row = this.ensureReady().find.get(userId, key);
      return row === undefined ? undefined : this.fromRow(row);
    });
  }

  /** Drops every queued write of `userId` (e.g. when the user is erased); returns how many. */
  deleteUser(userId: string): number {
    return runSql(this.db, "outbox.deleteUser", () => this.ensureReady().deleteUser.run(userId).changes);
  }

  private fromRow(row: OutboxRow): PendingWrite<T> {
    let payload: T;
    try {
      payload = JSON.parse(row.payload) as T;
    } catch (error) {
      throw new EngramError("OUTBOX_ERROR", `Outbox row ${row.seq} has a corrupt payload`, {
        cause: error,
        details: { seq: row.seq },
      });
    }
    return {
      seq: row.seq,
      userId: row.user_id,
      key: row.key,
      payload,
      attempts: row.attempts,
      createdAt: row.created_at,
      lastError: row.last_error,
    };
  }

  /**
   * Creates the table when missing and prepares the statements, once per instance. The unique
   * (user_id, key) index both enforces "one pending write per key" and serves per-user lookups.
   * Seq lists are passed as one JSON array (read with `json_each`) so any number fits one statement.
   */
  private ensureReady(): Statements {
    if (this.statements) return this.statements;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );
      CREATE UNIQUE INDEX IF NOT EXISTS outbox_user_key ON outbox (user_id, key);
    `);
    const replace = this.db.prepare<[NewRow]>(
      "DELETE FROM outbox WHERE user_id = @user_id AND key = @key",
    );
    const insert = this.db.prepare<[NewRow]>(
      `INSERT INTO outbox (user_id, key, payload, created_at)
       VALUES (@user_id, @key, @payload, @created_at)`,
    );
    this.statements = {
      pendingAll: this.db.prepare<[number], OutboxRow>(
        `SELECT ${COLUMNS} FROM outbox ORDER BY seq LIMIT ?`,
      ),
      pendingUser: this.db.prepare<[string, number], OutboxRow>(
        `SELECT ${COLUMNS} FROM outbox WHERE user_id = ? ORDER BY seq LIMIT ?`,
      ),
      complete: this.db.prepare<[string], { seq: number }>(
        "DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?)) RETURNING seq",
      ),
      fail: this.db.prepare<[string, string]>(
        `UPDATE outbox SET attempts = attempts + 1, last_error = ?
         WHERE seq IN (SELECT value FROM json_each(?))`,
      ),
      sizeAll: this.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox"),
      sizeUser: this.db.prepare<[string], { n: number }>(
        "SELECT COUNT(*) AS n FROM outbox WHERE user_id = ?",
      ),
      deleteUser: this.db.prepare<[string]>("DELETE FROM outbox WHERE user_id = ?"),
      find: this.db.prepare<[string, string], OutboxRow>(`SELECT ${COLUMNS} FROM outbox WHERE user_id = ? AND key = ?`),
      enqueueAll: this.db.transaction((rows: NewRow[]) =>
        rows.map((row) => {
          replace.run(row);
          return Number(insert.run(row).lastInsertRowid);
        }),
      ),
    };
    return this.statements;
  }
}

function serialise(payload: unknown, index: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    throw new EngramError("OUTBOX_ERROR", `Outbox item ${index} has a payload that is not JSON`, {
      cause: error,
      details: { index },
    });
  }
  if (json === undefined) {
    throw new EngramError("OUTBOX_ERROR", `Outbox item ${index} has a payload that is not JSON`, {
      details: { index },
    });
  }
  return json;
}
