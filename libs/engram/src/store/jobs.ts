import type Database from "better-sqlite3";
import { EngramError } from "../core/errors.js";
import { runSql } from "./sqlite.js";

/** Options for {@link JobTable}. */
export interface JobTableOptions {
  /** An open connection, usually Memory's `engram.sqlite`; not closed by the table. */
  db: Database.Database;
  /** Which queue of the shared table this instance serves, e.g. "facts". */
  queue: string;
  /** Source of time in ms since the Unix epoch, replaceable in tests. @default Date.now */
  clock?: () => number;
}

/** A job to record. */
export interface NewJob<T> {
  userId: string;
  /** Jobs of one group run together, one group at a time per user (e.g. one thread). */
  group: string;
  /** Idempotency key: a job with the same user and key as a queued one is not queued twice. */
  key: string;
  /** Stored as JSON. */
  payload: T;
}

/** A queued job. */
export interface Job<T> {
  seq: number;
  userId: string;
  group: string;
  key: string;
  payload: T;
  /** Failed runs so far. */
  attempts: number;
  createdAt: number;
  lastError: string | null;
}

interface JobRow {
  seq: number;
  user_id: string;
  grp: string;
  key: string;
  payload: string;
  created_at: number;
  attempts: number;
  last_error: string | null;
}

const COLUMNS = "seq, user_id, grp, key, payload, created_at, attempts, last_error";

/**
 * Durable queue of background jobs (work that calls a model, unlike the outbox's store writes),
 * in the shared SQLite file. A job is recorded before any of its work starts and removed only
 * when it is done, so a crash in between leaves it here for the next process to resume. Several
 * queues share one table, told apart by name. The table is created on first use.
 */
export class JobTable<T> {
  private readonly db: Database.Database;

  private readonly queue: string;

  private readonly clock: () => number;

  private ready = false;

  constructor(options: JobTableOptions) {
    this.db = options.db;
    this.queue = options.queue;
    this.clock = options.clock ?? Date.now;
  }

  /** Records a job; returns false when a job with the same user and key is already queued. */
  add(job: NewJob<T>): boolean {
    return runSql(this.db, "jobs.add", () => {
      this.ensureReady();
      const payload = JSON.stringify(job.payload);
      if (payload === undefined) throw new EngramError("OUTBOX_ERROR", "A job payload must be JSON.");
      const result = this.db
        .prepare(
          `INSERT OR IGNORE INTO jobs (queue, user_id, grp, key, payload, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(this.queue, job.userId, job.group, job.key, payload, this.clock());
      return result.changes > 0;
    });
  }

  /** Queued jobs, oldest first: of one user's group, of one user, or all. */
  pending(filter: { userId?: string; group?: string } = {}): Array<Job<T>> {
    return runSql(this.db, "jobs.pending", () => {
      this.ensureReady();
      const clauses = ["queue = ?"];
      const params: string[] = [this.queue];
      if (filter.userId !== undefined) {
        clauses.push("user_id = ?");
        params.push(filter.userId);
      }
      if (filter.group !== undefined) {
        clauses.push("grp = ?");
        params.push(filter.group);
      }
      const rows = this.db
        .prepare<string[], JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE ${clauses.join(" AND ")} ORDER BY seq`)
        .all(...params);
      return rows.map(fromRow<T>);
    });
  }

  /** The distinct (user, group) pairs with queued jobs, oldest first. */
  groups(): Array<{ userId: string; group: string }> {
    return runSql(this.db, "jobs.groups", () => {
      this.ensureReady();
      return this.db
        .prepare<[string], { user_id: string; grp: string }>(
          "SELECT user_id, grp, MIN(seq) AS first FROM jobs WHERE queue = ? GROUP BY user_id, grp ORDER BY first",
        )
        .all(this.queue)
        .map((row) => ({ userId: row.user_id, group: row.grp }));
    });
  }

  /** True when every one of `seqs` is still queued (none was completed or erased meanwhile). */
  allQueued(seqs: number[]): boolean {
    return runSql(this.db, "jobs.allQueued", () => {
      this.ensureReady();
      const row = this.db
        .prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM jobs WHERE seq IN (SELECT value FROM json_each(?))")
        .get(JSON.stringify(seqs));
      return (row?.n ?? 0) === seqs.length;
    });
  }

  /** Removes finished (or abandoned) jobs. */
  complete(seqs: number[]): void {
    runSql(this.db, "jobs.complete", () => {
      this.ensureReady();
      this.db.prepare("DELETE FROM jobs WHERE seq IN (SELECT value FROM json_each(?))").run(JSON.stringify(seqs));
    });
  }

  /** Records a failed run: attempts + 1 and the error. */
  fail(seqs: number[], error: string): void {
    runSql(this.db, "jobs.fail", () => {
      this.ensureReady();
      this.db
        .prepare("UPDATE jobs SET attempts = attempts + 1, last_error = ? WHERE seq IN (SELECT value FROM json_each(?))")
        .run(error.slice(0, 2_000), JSON.stringify(seqs));
    });
  }

  /** How many jobs are queued, for one user or all. */
  size(userId?: string): number {
    return runSql(this.db, "jobs.size", () => {
      this.ensureReady();
      const row =
        userId === undefined
          ? this.db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM jobs WHERE queue = ?").get(this.queue)
          : this.db
              .prepare<[string, string], { n: number }>("SELECT COUNT(*) AS n FROM jobs WHERE queue = ? AND user_id = ?")
              .get(this.queue, userId);
      return row?.n ?? 0;
    });
  }

  /** Drops every queued job of `userId` in this queue (the user is erased); returns how many. */
  deleteUser(userId: string): number {
    return runSql(this.db, "jobs.deleteUser", () => {
      this.ensureReady();
      return this.db.prepare("DELETE FROM jobs WHERE queue = ? AND user_id = ?").run(this.queue, userId).changes;
    });
  }

  private ensureReady(): void {
    if (this.ready) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        user_id TEXT NOT NULL,
        grp TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );
      CREATE UNIQUE INDEX IF NOT EXISTS jobs_queue_user_key ON jobs (queue, user_id, key);
    `);
    this.ready = true;
  }
}

function fromRow<T>(row: JobRow): Job<T> {
  let payload: T;
  try {
    payload = JSON.parse(row.payload) as T;
  } catch (cause) {
    throw new EngramError("OUTBOX_ERROR", `Job ${row.seq} has a corrupt payload`, { cause, details: { seq: row.seq } });
  }
  return {
    seq: row.seq,
    userId: row.user_id,
    group: row.grp,
    key: row.key,
    payload,
    attempts: row.attempts,
    createdAt: row.created_at,
    lastError: row.last_error,
  };
}
