/** The outbox of the SQLite state: the durable queue of store writes, in the `outbox` table. */
import type Database from "better-sqlite3";
import { EngramError } from "../../core/errors.js";
import { describeValue } from "../../core/describe.js";
import type { NewHistoryEntry, OutboxItem, OutboxState, PendingOptions, PendingWrite } from "../types.js";
import { runSql, type SqliteHandle } from "./database.js";
import type { SqliteHistory } from "./history.js";

interface OutboxRow {
  seq: number;
  user_id: string;
  key: string;
  payload: string;
  created_at: number;
  attempts: number;
  last_error: string | null;
  history: string | null;
}

interface NewRow {
  user_id: string;
  key: string;
  payload: string;
  created_at: number;
  /** The write's own history entry, if any (merged with the replaced row's in `enqueueAll`). */
  own: NewHistoryEntry | null;
  /** `OutboxItem.keepQueued`: a queued write of the key stays, and this one is dropped. */
  keep: boolean;
}

interface Statements<T> {
  pendingAll: Database.Statement<[number], OutboxRow>;
  pendingUser: Database.Statement<[string, number], OutboxRow>;
  complete: Database.Statement<[string], { seq: number }>;
  fail: Database.Statement<[string, string]>;
  sizeAll: Database.Statement<[], { n: number }>;
  sizeUser: Database.Statement<[string], { n: number }>;
  find: Database.Statement<[string, string], OutboxRow>;
  findMany: Database.Statement<[string, string], OutboxRow>;
  deleteUser: Database.Statement<[string]>;
  enqueueAll: Database.Transaction<(rows: NewRow[]) => number[]>;
  /**
   * The transactions, made once: better-sqlite3 prepares a transaction's BEGIN, COMMIT and
   * ROLLBACK when it is made, which cost more than the statements of a small drain step.
   */
  completeAppliedAll: Database.Transaction<(writes: Array<{ seq: number; history: readonly NewHistoryEntry[] }>) => number[]>;
  claimAll: Database.Transaction<(owner: string, leaseMs: number, userId: string | undefined, max: number) => Array<PendingWrite<T>>>;
}

const COLUMNS = "seq, user_id, key, payload, created_at, attempts, last_error, history";

/** A live claim of another owner on a write of the same user as row `o` (params: owner, now). */
const OTHER_CLAIM = `SELECT 1 FROM outbox c WHERE c.user_id = o.user_id AND c.claimed_by IS NOT NULL
  AND c.claimed_by <> ? AND c.claimed_until > ?`;

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
 * `claim` leases writes to one drainer (columns `claimed_by` / `claimed_until`, added to an older
 * table on first use): claims are about processes being alive, so they use the real time.
 *
 * The table is created on first use rather than in the constructor, so constructing is free and
 * synchronous.
 */
export class SqliteOutbox<T> implements OutboxState<T> {
  private statements: Statements<T> | undefined;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly history: SqliteHistory,
  ) {}

  private get db(): Database.Database {
    return this.handle.db();
  }

  /**
   * Queues writes in one transaction (all or none) and returns their seqs, in the order given. A
   * pending write with the same user and key (including an earlier item of the same batch) is
   * replaced: its row is removed and the new payload gets a new seq, zero attempts, the current
   * time, and the replaced row's history entries ahead of its own. Immediate: the replaced row's
   * entries are read and the new row written with no other process's write in between. An item
   * marked `keepQueued` leaves a pending write of its key in place and is dropped.
   * @throws EngramError `OUTBOX_ERROR` when a payload is not JSON-serialisable (nothing is queued).
   */
  async enqueue(items: Array<OutboxItem<T>>): Promise<number[]> {
    return runSql(this.db, "outbox.enqueue", () => {
      const statements = this.ensureReady();
      if (items.length === 0) return [];
      const now = this.handle.clock();
      const rows = items.map((item, index) => ({
        user_id: item.userId,
        key: item.key,
        payload: serialise(item.payload, index),
        created_at: now,
        own: item.history ?? null,
        keep: item.keepQueued === true,
      }));
      return statements.enqueueAll.immediate(rows);
    });
  }

  /** Queued writes, oldest first (the order they must be replayed in). */
  async pending(options: PendingOptions = {}): Promise<Array<PendingWrite<T>>> {
    const { userId, limit } = options;
    checkLimit(limit);
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
  async complete(seqs: number[]): Promise<number[]> {
    return this.completeNow(seqs);
  }

  /**
   * Removes applied writes and records the history of those this call removed, in one
   * transaction: of two drainers of one file, only the one that removes a row records its history.
   */
  async completeApplied(writes: Array<{ seq: number; history: readonly NewHistoryEntry[] }>): Promise<number[]> {
    if (writes.length === 0) return [];
    return runSql(this.db, "outbox.completeApplied", () => this.ensureReady().completeAppliedAll(writes));
  }

  /**
   * `pending`, leased to `owner` for `leaseMs`: in one immediate transaction, skips every user
   * with a live claim of another owner (a user's writes are applied in order), then claims what
   * it returns. A claim lapses at `claimed_until`, so an owner that died is taken over.
   */
  async claim(owner: string, leaseMs: number, options: PendingOptions = {}): Promise<Array<PendingWrite<T>>> {
    const { userId, limit } = options;
    checkLimit(limit);
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
      throw new EngramError("INVALID_OPTIONS", `leaseMs must be a positive number, got ${describeValue(leaseMs)}`);
    }
    return runSql(this.db, "outbox.claim", () => this.ensureReady().claimAll.immediate(owner, leaseMs, userId, limit ?? -1));
  }

  /** Synchronous `complete`, for a transaction that spans it. */
  completeNow(seqs: number[]): number[] {
    return runSql(this.db, "outbox.complete", () => {
      const statements = this.ensureReady();
      return seqs.length > 0 ? statements.complete.all(JSON.stringify(seqs)).map((row) => row.seq) : [];
    });
  }

  /**
   * Records a failed attempt: `attempts` + 1 and `lastError` = `error`, and releases the claim.
   * Unknown seqs are ignored.
   */
  async fail(seqs: number[], error: string): Promise<void> {
    runSql(this.db, "outbox.fail", () => {
      const statements = this.ensureReady();
      if (seqs.length > 0) statements.fail.run(error, JSON.stringify(seqs));
    });
  }

  /** How many writes are queued, for one user or for everyone. */
  async size(userId?: string): Promise<number> {
    return runSql(this.db, "outbox.size", () => {
      const statements = this.ensureReady();
      const row = userId === undefined ? statements.sizeAll.get() : statements.sizeUser.get(userId);
      return row?.n ?? 0;
    });
  }

  /** The queued write of a (user, key), if one is pending. */
  async find(userId: string, key: string): Promise<PendingWrite<T> | undefined> {
    return runSql(this.db, "outbox.find", () => {
      const row = this.ensureReady().find.get(userId, key);
      return row === undefined ? undefined : this.fromRow(row);
    });
  }

  /** The queued writes of many keys of a user, in one read (keys passed as one JSON array). */
  async findMany(userId: string, keys: readonly string[]): Promise<Array<PendingWrite<T>>> {
    return runSql(this.db, "outbox.findMany", () =>
      keys.length === 0 ? [] : this.ensureReady().findMany.all(userId, JSON.stringify(keys)).map((row) => this.fromRow(row)),
    );
  }

  /** Drops every queued write of `userId` (e.g. when the user is erased); returns how many. */
  async deleteUser(userId: string): Promise<number> {
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
      history: row.history === null ? null : parseHistory(row.history, row.seq),
    };
  }

  /**
   * Creates the table when missing and prepares the statements, once per instance. The unique
   * (user_id, key) index both enforces "one pending write per key" and serves per-user lookups;
   * the (user_id, seq) index reads a user's oldest writes in order (a drain step's read), which
   * otherwise sorted every queued write of the user: a 10k import drained in steps of 2,000 sorted
   * 10k rows five times.
   * Seq lists are passed as one JSON array (read with `json_each`) so any number fits one statement.
   */
  private ensureReady(): Statements<T> {
    if (this.statements) return this.statements;
    ensureOutboxTable(this.db);
    // REPLACE removes the pending row of the same (user_id, key) and inserts the new one, which
    // gets a new seq: a DELETE and an INSERT in one statement.
    const insert = this.db.prepare<[Omit<NewRow, "own" | "keep"> & { history: string }]>(
      `INSERT OR REPLACE INTO outbox (user_id, key, payload, created_at, history)
       VALUES (@user_id, @key, @payload, @created_at, @history)`,
    );
    const replaced = this.db.prepare<[string, string], { seq: number; history: string | null }>("SELECT seq, history FROM outbox WHERE user_id = ? AND key = ?");
    const claimable = this.db.prepare<[string, number, number], OutboxRow>(
      `SELECT ${COLUMNS} FROM outbox o WHERE NOT EXISTS (${OTHER_CLAIM}) ORDER BY seq LIMIT ?`,
    );
    const claimableUser = this.db.prepare<[string, number, string, number], OutboxRow>(
      `SELECT ${COLUMNS} FROM outbox o WHERE NOT EXISTS (${OTHER_CLAIM}) AND o.user_id = ? ORDER BY seq LIMIT ?`,
    );
    const claimRows = this.db.prepare<[string, number, string]>(
      "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE seq IN (SELECT value FROM json_each(?))",
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
        `UPDATE outbox SET attempts = attempts + 1, last_error = ?, claimed_by = NULL, claimed_until = NULL
         WHERE seq IN (SELECT value FROM json_each(?))`,
      ),
      sizeAll: this.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox"),
      sizeUser: this.db.prepare<[string], { n: number }>(
        "SELECT COUNT(*) AS n FROM outbox WHERE user_id = ?",
      ),
      deleteUser: this.db.prepare<[string]>("DELETE FROM outbox WHERE user_id = ?"),
      find: this.db.prepare<[string, string], OutboxRow>(`SELECT ${COLUMNS} FROM outbox WHERE user_id = ? AND key = ?`),
      findMany: this.db.prepare<[string, string], OutboxRow>(
        `SELECT ${COLUMNS} FROM outbox WHERE user_id = ? AND key IN (SELECT value FROM json_each(?))`,
      ),
      enqueueAll: this.db.transaction((rows: NewRow[]) =>
        rows.map(({ own, keep, ...row }) => {
          const before = replaced.get(row.user_id, row.key);
          if (keep && before) return before.seq;
          const carried = before?.history ? parseHistory(before.history, before.seq) : [];
          const history = JSON.stringify(own ? [...carried, own] : carried);
          return Number(insert.run({ ...row, history }).lastInsertRowid);
        }),
      ),
      completeAppliedAll: this.db.transaction((writes: Array<{ seq: number; history: readonly NewHistoryEntry[] }>) => {
        const removed = this.completeNow(writes.map((write) => write.seq));
        const done = new Set(removed);
        const notes = writes.flatMap((write) => (done.has(write.seq) ? write.history : []));
        if (notes.length > 0) this.history.recordNow(notes);
        return removed;
      }),
      claimAll: this.db.transaction((owner: string, leaseMs: number, userId: string | undefined, max: number) => {
        const now = Date.now();
        const rows = userId === undefined ? claimable.all(owner, now, max) : claimableUser.all(owner, now, userId, max);
        if (rows.length > 0) claimRows.run(owner, now + leaseMs, JSON.stringify(rows.map((row) => row.seq)));
        return rows.map((row) => this.fromRow(row));
      }),
    };
    return this.statements;
  }
}

/**
 * Creates the outbox table when missing; a table of a data folder written before claims existed
 * gets their columns (idempotent: added only when missing).
 */
export function ensureOutboxTable(db: Database.Database): void {
  const columns = new Set(db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('outbox')").all().map((column) => column.name));
  if (columns.size > 0 && !columns.has("claimed_by")) {
    db.exec("ALTER TABLE outbox ADD COLUMN claimed_by TEXT; ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;");
  }
  // Rows queued before it have none (null): their payload's own entry is all they record.
  if (columns.size > 0 && !columns.has("history")) addColumn(db, "ALTER TABLE outbox ADD COLUMN history TEXT");
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      user_id TEXT NOT NULL,
      key TEXT NOT NULL,
      payload TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      claimed_by TEXT,
      claimed_until INTEGER,
      history TEXT
    );
    CREATE UNIQUE INDEX IF NOT EXISTS outbox_user_key ON outbox (user_id, key);
    CREATE INDEX IF NOT EXISTS outbox_user_seq ON outbox (user_id, seq);
  `);
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new EngramError("INVALID_OPTIONS", `limit must be a non-negative integer, got ${describeValue(limit)}`);
  }
}

/** An ALTER TABLE that another process opening the same old folder may have run first. */
function addColumn(db: Database.Database, sql: string): void {
  try {
    db.exec(sql);
  } catch (error) {
    if (!/duplicate column/i.test((error as Error).message)) throw error;
  }
}

/** A row's history entries (JSON written by `enqueueAll`). */
function parseHistory(text: string, seq: number): NewHistoryEntry[] {
  try {
    return JSON.parse(text) as NewHistoryEntry[];
  } catch (error) {
    throw new EngramError("OUTBOX_ERROR", `Outbox row ${seq} has corrupt history entries`, { cause: error, details: { seq } });
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
