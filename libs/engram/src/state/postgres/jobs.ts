import { EngramError } from "../../core/errors.js";
import type { Job, JobState, NewJob } from "../types.js";
import { NOW_MS, type PgHandle } from "./handle.js";
import { checkClaim, parsePayload } from "./outbox.js";

interface JobRow {
  seq: string;
  user_id: string;
  grp: string;
  key: string;
  payload: string;
  created_at: string;
  attempts: number;
  last_error: string | null;
}

const COLUMNS = "seq, user_id, grp, key, payload, created_at, attempts, last_error";
const MAX_ERROR_CHARS = 2_000;

/**
 * One named queue of background jobs in the shared `jobs` table. Jobs are claimed a whole
 * (user, group) at a time: a group another live replica holds is skipped, and a replica that died
 * holding one is taken over once its lease lapses (the server's clock times leases).
 */
export class PostgresJobs<T> implements JobState<T> {
  constructor(
    private readonly handle: PgHandle,
    private readonly queue: string,
  ) {}

  private get table(): string {
    return this.handle.table("jobs");
  }

  async add(job: NewJob<T>): Promise<boolean> {
    const payload = JSON.stringify(job.payload);
    if (payload === undefined) throw new EngramError("OUTBOX_ERROR", "A job payload must be JSON.");
    const rows = await this.handle.query(
      "jobs.add",
      `INSERT INTO ${this.table} (queue, user_id, grp, key, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (queue, user_id, key) DO NOTHING RETURNING seq`,
      [this.queue, job.userId, job.group, job.key, payload, this.handle.clock()],
    );
    return rows.length > 0;
  }

  async pending(filter: { userId?: string; group?: string } = {}): Promise<Array<Job<T>>> {
    const rows = await this.handle.query<JobRow>(
      "jobs.pending",
      `SELECT ${COLUMNS} FROM ${this.table}
       WHERE queue = $1 AND ($2::text IS NULL OR user_id = $2) AND ($3::text IS NULL OR grp = $3) ORDER BY seq`,
      [this.queue, filter.userId ?? null, filter.group ?? null],
    );
    return rows.map((row) => fromRow<T>(row));
  }

  /**
   * The queued jobs (of the filter) leased to `owner` for `leaseMs`, whole groups only: a group
   * with a job another live owner holds, or a job another transaction has locked this instant, is
   * left out entirely. Claiming again as the same owner renews the lease (a long model call).
   */
  async claim(owner: string, leaseMs: number, filter: { userId?: string; group?: string } = {}): Promise<Array<Job<T>>> {
    checkClaim(owner, leaseMs);
    const t = this.table;
    const rows = await this.handle.query<JobRow>(
      "jobs.claim",
      `WITH now AS (SELECT ${NOW_MS} AS ms),
      locked AS (
        SELECT j.seq, j.user_id, j.grp FROM ${t} j, now
        WHERE j.queue = $3 AND ($4::text IS NULL OR j.user_id = $4) AND ($5::text IS NULL OR j.grp = $5)
          -- On the row itself too: a claim committed after this statement's snapshot is seen by the re-check of a locked row.
          AND (j.claimed_by IS NULL OR j.claimed_by = $1 OR j.claimed_until <= now.ms)
          AND NOT EXISTS (SELECT 1 FROM ${t} c WHERE c.queue = j.queue AND c.user_id = j.user_id AND c.grp = j.grp
                          AND c.claimed_by IS NOT NULL AND c.claimed_by <> $1 AND c.claimed_until > now.ms)
        ORDER BY j.seq
        FOR UPDATE OF j SKIP LOCKED
      ),
      taken AS (
        SELECT l.seq FROM locked l
        WHERE NOT EXISTS (SELECT 1 FROM ${t} p WHERE p.queue = $3 AND p.user_id = l.user_id AND p.grp = l.grp
                          AND p.seq NOT IN (SELECT seq FROM locked))
      )
      UPDATE ${t} j SET claimed_by = $1, claimed_until = now.ms + $2::bigint
      FROM taken, now WHERE j.seq = taken.seq
      RETURNING j.seq, j.user_id, j.grp, j.key, j.payload, j.created_at, j.attempts, j.last_error`,
      [owner, leaseMs, this.queue, filter.userId ?? null, filter.group ?? null],
    );
    return rows.map((row) => fromRow<T>(row)).sort((a, b) => a.seq - b.seq);
  }

  async groups(): Promise<Array<{ userId: string; group: string }>> {
    const rows = await this.handle.query<{ user_id: string; grp: string }>(
      "jobs.groups",
      `SELECT user_id, grp, min(seq) AS first FROM ${this.table} WHERE queue = $1 GROUP BY user_id, grp ORDER BY first`,
      [this.queue],
    );
    return rows.map((row) => ({ userId: row.user_id, group: row.grp }));
  }

  async allQueued(seqs: number[]): Promise<boolean> {
    const unique = [...new Set(seqs)];
    const rows = await this.handle.query<{ n: string }>(
      "jobs.allQueued",
      `SELECT count(*) AS n FROM ${this.table} WHERE queue = $1 AND seq = ANY($2::bigint[])`,
      [this.queue, unique],
    );
    return Number(rows[0]?.n ?? 0) === unique.length;
  }

  async complete(seqs: number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.handle.query("jobs.complete", `DELETE FROM ${this.table} WHERE queue = $1 AND seq = ANY($2::bigint[])`, [this.queue, seqs]);
  }

  /** Records a failed run and releases the claim, so any replica may retry the group. */
  async fail(seqs: number[], error: string): Promise<void> {
    if (seqs.length === 0) return;
    await this.handle.query(
      "jobs.fail",
      `UPDATE ${this.table} SET attempts = attempts + 1, last_error = $3, claimed_by = NULL, claimed_until = NULL
       WHERE queue = $1 AND seq = ANY($2::bigint[])`,
      [this.queue, seqs, error.slice(0, MAX_ERROR_CHARS)],
    );
  }

  async size(userId?: string): Promise<number> {
    const rows = await this.handle.query<{ n: string }>(
      "jobs.size",
      `SELECT count(*) AS n FROM ${this.table} WHERE queue = $1 AND ($2::text IS NULL OR user_id = $2)`,
      [this.queue, userId ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async deleteUser(userId: string): Promise<number> {
    const rows = await this.handle.query<{ n: string }>(
      "jobs.deleteUser",
      `WITH gone AS (DELETE FROM ${this.table} WHERE queue = $1 AND user_id = $2 RETURNING 1) SELECT count(*) AS n FROM gone`,
      [this.queue, userId],
    );
    return Number(rows[0]?.n ?? 0);
  }
}

function fromRow<T>(row: JobRow): Job<T> {
  const seq = Number(row.seq);
  return {
    seq,
    userId: row.user_id,
    group: row.grp,
    key: row.key,
    payload: parsePayload<T>(row.payload, "Job", seq),
    attempts: row.attempts,
    createdAt: Number(row.created_at),
    lastError: row.last_error,
  };
}
