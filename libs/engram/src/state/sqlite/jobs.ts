/** The job queues of the SQLite state: durable background jobs, in the shared `jobs` table. */
import type Database from "better-sqlite3";
import { EngramError } from "../../core/errors.js";
import type { Job, JobState, NewJob } from "../types.js";
import { runSql, type SqliteHandle } from "./database.js";

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
 * queues share one table, told apart by name. Replicas on one file share them with `claim`. The
 * table is created on first use.
 */
export class SqliteJobs<T> implements JobState<T> {
  private ready = false;

  constructor(
    private readonly handle: SqliteHandle,
    /** Which queue of the shared table this instance serves, e.g. "facts". */
    private readonly queue: string,
  ) {}

  private get db(): Database.Database {
    return this.handle.db();
  }

  /** Records a job; returns false when a job with the same user and key is already queued. */
  async add(job: NewJob<T>): Promise<boolean> {
    return runSql(this.db, "jobs.add", () => {
      this.ensureReady();
      const payload = JSON.stringify(job.payload);
      if (payload === undefined) throw new EngramError("OUTBOX_ERROR", "A job payload must be JSON.");
      const result = this.db
        .prepare(
          `INSERT OR IGNORE INTO jobs (queue, user_id, grp, key, payload, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(this.queue, job.userId, job.group, job.key, payload, this.handle.clock());
      return result.changes > 0;
    });
  }

  /** Queued jobs, oldest first: of one user's group, of one user, or all. */
  async pending(filter: { userId?: string; group?: string } = {}): Promise<Array<Job<T>>> {
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

  /**
   * `pending`, leased to `owner` for `leaseMs`, whole groups only: in one immediate transaction,
   * skips every group with a job another live owner holds, then claims what it returns. Claims
   * use the real time (they are about processes being alive).
   */
  async claim(owner: string, leaseMs: number, filter: { userId?: string; group?: string } = {}): Promise<Array<Job<T>>> {
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new EngramError("INVALID_OPTIONS", "leaseMs must be a positive number.");
    return runSql(this.db, "jobs.claim", () => {
      this.ensureReady();
      return this.db.transaction(() => {
        const now = Date.now();
        const clauses = [
          "j.queue = ?",
          `NOT EXISTS (SELECT 1 FROM jobs c WHERE c.queue = j.queue AND c.user_id = j.user_id AND c.grp = j.grp
             AND c.claimed_by IS NOT NULL AND c.claimed_by <> ? AND c.claimed_until > ?)`,
        ];
        const params: Array<string | number> = [this.queue, owner, now];
        if (filter.userId !== undefined) {
          clauses.push("j.user_id = ?");
          params.push(filter.userId);
        }
        if (filter.group !== undefined) {
          clauses.push("j.grp = ?");
          params.push(filter.group);
        }
        const rows = this.db
          .prepare<Array<string | number>, JobRow>(`SELECT ${COLUMNS} FROM jobs j WHERE ${clauses.join(" AND ")} ORDER BY seq`)
          .all(...params);
        if (rows.length > 0) {
          this.db
            .prepare("UPDATE jobs SET claimed_by = ?, claimed_until = ? WHERE seq IN (SELECT value FROM json_each(?))")
            .run(owner, now + leaseMs, JSON.stringify(rows.map((row) => row.seq)));
        }
        return rows.map(fromRow<T>);
      }).immediate();
    });
  }

  /** The distinct (user, group) pairs with queued jobs, oldest first. */
  async groups(): Promise<Array<{ userId: string; group: string }>> {
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
  async allQueued(seqs: number[]): Promise<boolean> {
    return runSql(this.db, "jobs.allQueued", () => {
      this.ensureReady();
      const row = this.db
        .prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM jobs WHERE seq IN (SELECT value FROM json_each(?))")
        .get(JSON.stringify(seqs));
      return (row?.n ?? 0) === seqs.length;
    });
  }

  /** Removes finished (or abandoned) jobs. */
  async complete(seqs: number[]): Promise<void> {
    runSql(this.db, "jobs.complete", () => {
      this.ensureReady();
      this.db.prepare("DELETE FROM jobs WHERE seq IN (SELECT value FROM json_each(?))").run(JSON.stringify(seqs));
    });
  }

  /** Records a failed run: attempts + 1 and the error. */
  async fail(seqs: number[], error: string): Promise<void> {
    runSql(this.db, "jobs.fail", () => {
      this.ensureReady();
      this.db
        .prepare(
          `UPDATE jobs SET attempts = attempts + 1, last_error = ?, claimed_by = NULL, claimed_until = NULL
           WHERE seq IN (SELECT value FROM json_each(?))`,
        )
        .run(error.slice(0, 2_000), JSON.stringify(seqs));
    });
  }

  /** How many jobs are queued, for one user or all. */
  async size(userId?: string): Promise<number> {
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
  async deleteUser(userId: string): Promise<number> {
    return runSql(this.db, "jobs.deleteUser", () => {
      this.ensureReady();
      return this.db.prepare("DELETE FROM jobs WHERE queue = ? AND user_id = ?").run(this.queue, userId).changes;
    });
  }

  private ensureReady(): void {
    if (this.ready) return;
    // A data folder written before claims existed gets their columns (idempotent: only when missing).
    const columns = new Set(this.db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('jobs')").all().map((column) => column.name));
    if (columns.size > 0 && !columns.has("claimed_by")) {
      this.db.exec("ALTER TABLE jobs ADD COLUMN claimed_by TEXT; ALTER TABLE jobs ADD COLUMN claimed_until INTEGER;");
    }
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
        last_error TEXT,
        claimed_by TEXT,
        claimed_until INTEGER
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
