import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { checkColumns } from "./prune_sqlite.js";
import type { CheckpointPruner, DoomedCheckpoint } from "./retention.js";

/** The parts of a node-postgres pool used here (structural: engram does not load pg for this). */
export interface QueryablePool {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
  connect(): Promise<QueryableClient>;
}

interface QueryableClient {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
  release(): void;
}

/**
 * Retention over `PostgresSaver` (`@langchain/langgraph-checkpoint-postgres` 1.0.x). Its tables, in
 * the saver's schema: `checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
 * checkpoint JSONB, metadata)` where `checkpoint.channel_versions` names each channel's version;
 * `checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)`, one row per channel
 * version, SHARED by every checkpoint whose `channel_versions` names it (a step stores only the
 * channels it changed); and `checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id,
 * idx, channel, type, blob)`.
 *
 * So a pruned checkpoint's blobs are deleted only when no remaining checkpoint of the thread names
 * them. A concurrent `put` stays whole: the newest checkpoint is never pruned, and it names every
 * version a run's next checkpoint carries over; blobs a `put` is inserting are not yet visible to
 * the delete (READ COMMITTED), so they are never taken.
 */
export class PostgresSaverPruner implements CheckpointPruner {
  readonly kind = "postgres";

  private checked = false;

  private readonly t: { checkpoints: string; blobs: string; writes: string };

  constructor(
    private readonly pool: QueryablePool,
    private readonly schema: string,
  ) {
    const quoted = `"${schema.replace(/"/g, '""')}"`;
    this.t = { checkpoints: `${quoted}.checkpoints`, blobs: `${quoted}.checkpoint_blobs`, writes: `${quoted}.checkpoint_writes` };
  }

  async keepLast(threadIds: string[], keep: number): Promise<DoomedCheckpoint[]> {
    if (threadIds.length === 0 || !(await this.ready())) return [];
    const { checkpoints, blobs, writes } = this.t;
    return this.transaction(async (client) => {
      const { rows } = await client.query<DoomedRow>(
        `WITH ranked AS (
           SELECT thread_id, checkpoint_ns, checkpoint_id,
                  row_number() OVER (PARTITION BY thread_id, checkpoint_ns ORDER BY checkpoint_id DESC) AS rn
           FROM ${checkpoints} WHERE thread_id = ANY($1::text[])
         ), doomed AS (
           SELECT r.thread_id, r.checkpoint_ns, r.checkpoint_id FROM ranked r
           WHERE r.rn > $2
             -- Writes no later checkpoint consumed: a step in flight or failed, resumed from here.
             AND NOT (
               EXISTS (SELECT 1 FROM ${writes} w WHERE w.thread_id = r.thread_id AND w.checkpoint_ns = r.checkpoint_ns AND w.checkpoint_id = r.checkpoint_id)
               AND NOT EXISTS (SELECT 1 FROM ${checkpoints} c WHERE c.thread_id = r.thread_id AND c.checkpoint_ns = r.checkpoint_ns AND c.parent_checkpoint_id = r.checkpoint_id)
             )
         )
         DELETE FROM ${checkpoints} c USING doomed d
         WHERE c.thread_id = d.thread_id AND c.checkpoint_ns = d.checkpoint_ns AND c.checkpoint_id = d.checkpoint_id
         RETURNING c.thread_id, c.checkpoint_ns, c.checkpoint_id`,
        [threadIds, keep],
      );
      // Then the namespaces of subgraph calls ("node:<task id>"; not those of `checkpointer: true`
      // subgraphs, which keep their state across calls) older than every root checkpoint left:
      // the steps that ran them are pruned history (see SqliteSaverPruner.keepLast).
      const finished = await client.query<DoomedRow>(
        `WITH finished AS (
           SELECT s.thread_id, s.checkpoint_ns FROM ${checkpoints} s
           WHERE s.thread_id = ANY($1::text[]) AND s.checkpoint_ns LIKE '%:%'
           GROUP BY s.thread_id, s.checkpoint_ns
           HAVING max(s.checkpoint_id) < (SELECT min(r.checkpoint_id) FROM ${checkpoints} r WHERE r.thread_id = s.thread_id AND r.checkpoint_ns = '')
         )
         DELETE FROM ${checkpoints} c USING finished f
         WHERE c.thread_id = f.thread_id AND c.checkpoint_ns = f.checkpoint_ns
         RETURNING c.thread_id, c.checkpoint_ns, c.checkpoint_id`,
        [threadIds],
      );
      rows.push(...finished.rows);
      if (rows.length === 0) return [];
      await client.query(
        `DELETE FROM ${writes} w USING unnest($1::text[], $2::text[], $3::text[]) AS d(thread_id, checkpoint_ns, checkpoint_id)
         WHERE w.thread_id = d.thread_id AND w.checkpoint_ns = d.checkpoint_ns AND w.checkpoint_id = d.checkpoint_id`,
        [rows.map((r) => r.thread_id), rows.map((r) => r.checkpoint_ns), rows.map((r) => r.checkpoint_id)],
      );
      // Channel versions no remaining checkpoint of the thread names. Same text as the saver's
      // own read (jsonb_each_text of channel_versions against blob.version).
      await client.query(
        `DELETE FROM ${blobs} b
         WHERE b.thread_id = ANY($1::text[])
           AND NOT EXISTS (
             SELECT 1 FROM ${checkpoints} c
             WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns
               AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version
           )`,
        [[...new Set(rows.map((r) => r.thread_id))]],
      );
      return rows.map((row) => ({ threadId: row.thread_id, checkpointNs: row.checkpoint_ns, checkpointId: row.checkpoint_id }));
    });
  }

  async crowdedThreads(keep: number, after: string | undefined, limit: number): Promise<string[]> {
    if (!(await this.ready())) return [];
    const { rows } = await this.pool.query<{ thread_id: string }>(
      `SELECT DISTINCT thread_id FROM (
         SELECT thread_id FROM ${this.t.checkpoints} WHERE thread_id > $1
         GROUP BY thread_id, checkpoint_ns HAVING count(*) > $2
         UNION
         -- A subgraph call's namespace older than every root checkpoint (see keepLast).
         SELECT s.thread_id FROM ${this.t.checkpoints} s WHERE s.thread_id > $1 AND s.checkpoint_ns LIKE '%:%'
         GROUP BY s.thread_id, s.checkpoint_ns
         HAVING max(s.checkpoint_id) < (SELECT min(r.checkpoint_id) FROM ${this.t.checkpoints} r WHERE r.thread_id = s.thread_id AND r.checkpoint_ns = '')
       ) crowded ORDER BY thread_id LIMIT $3`,
      [after ?? "", keep, limit],
    );
    return rows.map((row) => row.thread_id);
  }

  async idleThreads(cutoff: string, after: string | undefined, limit: number): Promise<string[]> {
    if (!(await this.ready())) return [];
    const { rows } = await this.pool.query<{ thread_id: string }>(
      `SELECT thread_id FROM ${this.t.checkpoints} WHERE thread_id > $1
       GROUP BY thread_id HAVING max(coalesce(checkpoint ->> 'ts', '9999')) < $2
       ORDER BY thread_id LIMIT $3`,
      [after ?? "", cutoff, limit],
    );
    return rows.map((row) => row.thread_id);
  }

  async expire(threadId: string, cutoff: string): Promise<boolean> {
    if (!(await this.ready())) return false;
    const { checkpoints, blobs, writes } = this.t;
    return this.transaction(async (client) => {
      // Checked again in the deleting transaction: a run that wrote since the scan keeps its thread.
      const { rows } = await client.query<{ ts: string | null }>(
        `SELECT max(coalesce(checkpoint ->> 'ts', '9999')) AS ts FROM ${checkpoints} WHERE thread_id = $1`,
        [threadId],
      );
      const ts = rows[0]?.ts;
      if (ts === null || ts === undefined || ts >= cutoff) return false;
      await client.query(`DELETE FROM ${checkpoints} WHERE thread_id = $1`, [threadId]);
      await client.query(`DELETE FROM ${writes} WHERE thread_id = $1`, [threadId]);
      await client.query(`DELETE FROM ${blobs} WHERE thread_id = $1`, [threadId]);
      return true;
    });
  }

  private async transaction<R>(work: (client: QueryableClient) => Promise<R>): Promise<R> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      // Replicas pruning at once take turns (short transactions), rather than deadlock on rows
      // they both delete.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`engram:prune:${this.schema}`]);
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** False until the saver's tables exist; checks their columns once. */
  private async ready(): Promise<boolean> {
    if (this.checked) return true;
    const { rows } = await this.pool.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = $1 AND table_name IN ('checkpoints', 'checkpoint_blobs', 'checkpoint_writes')`,
      [this.schema],
    );
    const of = (table: string) => rows.filter((row) => row.table_name === table).map((row) => row.column_name);
    if (of("checkpoints").length === 0 || of("checkpoint_blobs").length === 0 || of("checkpoint_writes").length === 0) return false;
    checkColumns("checkpoints", of("checkpoints"), ["thread_id", "checkpoint_ns", "checkpoint_id", "parent_checkpoint_id", "checkpoint"]);
    checkColumns("checkpoint_blobs", of("checkpoint_blobs"), ["thread_id", "checkpoint_ns", "channel", "version"]);
    checkColumns("checkpoint_writes", of("checkpoint_writes"), ["thread_id", "checkpoint_ns", "checkpoint_id"]);
    this.checked = true;
    return true;
  }
}

interface DoomedRow {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
}

/**
 * The pool and schema of a `PostgresSaver` (read from the instance: the saver keeps them in
 * fields `pool` and `options.schema`), or undefined for another saver.
 */
export function postgresSaverTarget(saver: BaseCheckpointSaver): { pool: QueryablePool; schema: string } | undefined {
  const fields = saver as unknown as { pool?: unknown; options?: { schema?: unknown } };
  const pool = fields.pool as Partial<QueryablePool> | undefined;
  const schema = fields.options?.schema;
  if (pool === null || typeof pool !== "object" || typeof pool.query !== "function" || typeof pool.connect !== "function") return undefined;
  if (typeof schema !== "string") return undefined;
  return { pool: pool as QueryablePool, schema };
}
