import { ERASED_OWNER } from "../erased_owner.js";
import { THREAD_CLAIM_KEY, type FilingMessage, type FilingState, type PendingFiling } from "../types.js";
import type { PgHandle } from "./handle.js";

interface FilingRow {
  seq: string;
  thread_id: string;
  user_id: string;
  messages: string;
  attempts: number;
}

const MAX_ERROR_CHARS = 2_000;

/**
 * The checkpointer's bookkeeping in PostgreSQL: which messages of which thread were taken for
 * which user (`checkpointer_filed`), and the queue of filings not yet done (`checkpointer_queue`).
 * Unlike the SQLite log it keeps no in-process cache of taken keys: another replica may forget a
 * thread (`deleteThread`), and a cache here would then keep a reused thread id from filing again.
 */
export class PostgresFilings<M extends FilingMessage = FilingMessage> implements FilingState<M> {
  constructor(private readonly handle: PgHandle) {}

  private get filed(): string {
    return this.handle.table("checkpointer_filed");
  }

  private get queue(): string {
    return this.handle.table("checkpointer_queue");
  }

  /**
   * Takes the messages not taken before and queues them, in one transaction; returns those queued
   * (none when the thread is an erased user's: see `FilingState.take`).
   */
  async take(threadId: string, userId: string, messages: M[]): Promise<M[]> {
    if (messages.length === 0) return [];
    const now = this.handle.clock();
    return this.handle.tx("filings.take", async (client) => {
      // Shared with other takes, exclusive with the user's erasure (`deleteUser`): without it a
      // take that read the owners before an erasure committed would insert its rows after it.
      await client.query("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))", [this.userLock(userId)]);
      const { rows: owners } = await client.query<{ user_id: string }>(
        `SELECT user_id FROM ${this.filed} WHERE thread_id = $1 UNION SELECT user_id FROM ${this.queue} WHERE thread_id = $1`,
        [threadId],
      );
      const users = owners.map((row) => row.user_id);
      if (users.includes(ERASED_OWNER) && !users.includes(userId)) return [];
      const { rows } = await client.query<{ message_key: string }>(
        `INSERT INTO ${this.filed} (thread_id, user_id, message_key) SELECT $1, $2, k FROM unnest($3::text[]) AS k
         ON CONFLICT DO NOTHING RETURNING message_key`,
        [threadId, userId, messages.map((message) => message.key)],
      );
      const fresh = new Set(rows.map((row) => row.message_key));
      // A key twice in one call is taken once, with its first message.
      const taken = messages.filter((message) => fresh.delete(message.key));
      if (taken.length > 0) {
        await client.query(`INSERT INTO ${this.queue} (thread_id, user_id, messages, created_at) VALUES ($1, $2, $3, $4)`, [
          threadId,
          userId,
          JSON.stringify(taken),
          now,
        ]);
      }
      return taken;
    });
  }

  async pending(limit: number): Promise<Array<PendingFiling<M>>> {
    const rows = await this.handle.query<FilingRow>(
      "filings.pending",
      `SELECT seq, thread_id, user_id, messages, attempts FROM ${this.queue} ORDER BY seq LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      seq: Number(row.seq),
      threadId: row.thread_id,
      userId: row.user_id,
      messages: JSON.parse(row.messages) as M[],
      attempts: row.attempts,
    }));
  }

  async size(): Promise<number> {
    const rows = await this.handle.query<{ n: string }>("filings.size", `SELECT count(*) AS n FROM ${this.queue}`);
    return Number(rows[0]?.n ?? 0);
  }

  async complete(seqs: number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.handle.query("filings.complete", `DELETE FROM ${this.queue} WHERE seq = ANY($1::bigint[])`, [seqs]);
  }

  async fail(seqs: number[], error: string): Promise<void> {
    if (seqs.length === 0) return;
    await this.handle.query("filings.fail", `UPDATE ${this.queue} SET attempts = attempts + 1, last_error = $2 WHERE seq = ANY($1::bigint[])`, [
      seqs,
      error.slice(0, MAX_ERROR_CHARS),
    ]);
  }

  async usersOf(threadId: string): Promise<string[]> {
    // ERASED_OWNER is no user: it only keeps the thread from being claimed (see `claim`).
    return (await this.owners(threadId)).filter((user) => user !== ERASED_OWNER);
  }

  private async owners(threadId: string): Promise<string[]> {
    const rows = await this.handle.query<{ user_id: string }>(
      "filings.usersOf",
      `SELECT user_id FROM ${this.filed} WHERE thread_id = $1 UNION SELECT user_id FROM ${this.queue} WHERE thread_id = $1 ORDER BY user_id`,
      [threadId],
    );
    return rows.map((row) => row.user_id);
  }

  /**
   * See `FilingState.claim`. The transaction holds an advisory lock on the thread id: without it
   * two replicas would both read no users and both insert their (distinct) claim rows.
   */
  async claim(threadId: string, userId: string): Promise<string[]> {
    // A thread with users keeps them until it is forgotten: later runs answer from one read.
    const known = await this.owners(threadId);
    if (known.length > 0) return known;
    return this.handle.tx("filings.claim", async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`engram:thread-claim:${this.handle.schema}:${threadId}`]);
      const { rows } = await client.query<{ user_id: string }>(
        `SELECT user_id FROM ${this.filed} WHERE thread_id = $1 UNION SELECT user_id FROM ${this.queue} WHERE thread_id = $1 ORDER BY user_id`,
        [threadId],
      );
      if (rows.length > 0) return rows.map((row) => row.user_id);
      await client.query(`INSERT INTO ${this.filed} (thread_id, user_id, message_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
        threadId,
        userId,
        THREAD_CLAIM_KEY,
      ]);
      return [userId];
    });
  }

  async dropPending(threadId: string): Promise<number> {
    const rows = await this.handle.query<{ n: string }>(
      "filings.dropPending",
      `WITH gone AS (DELETE FROM ${this.queue} WHERE thread_id = $1 RETURNING 1) SELECT count(*) AS n FROM gone`,
      [threadId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async forgetThread(threadId: string): Promise<void> {
    await this.handle.query("filings.forgetThread", `DELETE FROM ${this.filed} WHERE thread_id = $1`, [threadId]);
  }

  /**
   * Erasure of a user: the user's taken keys and waiting filings of every thread, their threads
   * left to `ERASED_OWNER` (as `StateBackend.deleteUser` does), in one transaction that no `take`
   * of the user overlaps; returns how many rows of the user went.
   */
  async deleteUser(userId: string): Promise<number> {
    return this.handle.tx("filings.deleteUser", async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [this.userLock(userId)]);
      await client.query(
        `INSERT INTO ${this.filed} (thread_id, user_id, message_key)
         SELECT thread_id, $2, $3 FROM ${this.filed} WHERE user_id = $1 UNION SELECT thread_id, $2, $3 FROM ${this.queue} WHERE user_id = $1
         ON CONFLICT DO NOTHING`,
        [userId, ERASED_OWNER, THREAD_CLAIM_KEY],
      );
      const { rows } = await client.query<{ n: string }>(
        `WITH a AS (DELETE FROM ${this.filed} WHERE user_id = $1 RETURNING 1), b AS (DELETE FROM ${this.queue} WHERE user_id = $1 RETURNING 1)
         SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) AS n`,
        [userId],
      );
      return Number(rows[0]?.n ?? 0);
    });
  }

  /** The seqs of `seqs` still queued (not done, dropped nor erased since they were read). */
  async queued(seqs: number[]): Promise<number[]> {
    if (seqs.length === 0) return [];
    const rows = await this.handle.query<{ seq: string }>("filings.queued", `SELECT seq FROM ${this.queue} WHERE seq = ANY($1::bigint[])`, [seqs]);
    return rows.map((row) => Number(row.seq));
  }

  private userLock(userId: string): string {
    return `engram:filing-user:${this.handle.schema}:${userId}`;
  }
}
