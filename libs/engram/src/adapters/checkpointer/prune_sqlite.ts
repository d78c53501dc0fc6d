import type Database from "better-sqlite3";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { EngramError } from "../../core/errors.js";
import type { CheckpointPruner, DoomedCheckpoint } from "./retention.js";

/**
 * Retention over `SqliteSaver` (`@langchain/langgraph-checkpoint-sqlite` 1.0.x): its tables are
 * `checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
 * metadata)`, each row a whole checkpoint (serialized by the saver's serde, JSON by default), and
 * `writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, value)`.
 * No blob is shared between checkpoints, so deleting a checkpoint row and its writes is complete.
 *
 * Every change runs in one `BEGIN IMMEDIATE` transaction: SQLite's write lock keeps a concurrent
 * `put` (this process or another on the same file) entirely before or after it.
 */
export class SqliteSaverPruner implements CheckpointPruner {
  readonly kind = "sqlite";

  private checked = false;

  constructor(private readonly db: Database.Database) {}

  async keepLast(threadIds: string[], keep: number): Promise<DoomedCheckpoint[]> {
    if (!this.ready() || threadIds.length === 0) return [];
    const marks = threadIds.map(() => "?").join(", ");
    const select = this.db.prepare<unknown[], DoomedRow>(`
      WITH ranked AS (
        SELECT thread_id, checkpoint_ns, checkpoint_id,
               row_number() OVER (PARTITION BY thread_id, checkpoint_ns ORDER BY checkpoint_id DESC) AS rn
        FROM checkpoints WHERE thread_id IN (${marks})
      )
      SELECT r.thread_id, r.checkpoint_ns, r.checkpoint_id FROM ranked r
      WHERE r.rn > ?
        -- A checkpoint whose writes no later checkpoint has consumed: a step in flight or failed,
        -- which a run resumes from. Kept, whatever its age.
        AND NOT (
          EXISTS (SELECT 1 FROM writes w WHERE w.thread_id = r.thread_id AND w.checkpoint_ns = r.checkpoint_ns AND w.checkpoint_id = r.checkpoint_id)
          AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.thread_id = r.thread_id AND c.checkpoint_ns = r.checkpoint_ns AND c.parent_checkpoint_id = r.checkpoint_id)
        )`);
    // A subgraph call's namespace ("node:<task id>", nested with "|") is written during one step
    // of the root graph: its checkpoints are newer than the root checkpoint the step ran from and
    // older than the one after it. Once every root checkpoint left is newer than all of a
    // namespace's, the step that ran it is pruned history: nothing resumes or reads it any more.
    // Kept per namespace instead, every subgraph call would leave its newest checkpoints (each a
    // copy of the subgraph's state) for ever: a thread grew by one namespace a turn. A subgraph
    // compiled with `checkpointer: true` keeps one history across calls, under its namespace
    // without task ids (no ":"): that state is live whatever its age, and never deleted here.
    const selectFinished = this.db.prepare<unknown[], DoomedRow>(`
      SELECT s.thread_id, s.checkpoint_ns, s.checkpoint_id FROM checkpoints s
      WHERE s.thread_id IN (${marks}) AND s.checkpoint_ns LIKE '%:%'
        AND (SELECT max(x.checkpoint_id) FROM checkpoints x WHERE x.thread_id = s.thread_id AND x.checkpoint_ns = s.checkpoint_ns)
          < (SELECT min(r.checkpoint_id) FROM checkpoints r WHERE r.thread_id = s.thread_id AND r.checkpoint_ns = '')`);
    const dropCheckpoint = this.db.prepare("DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?");
    const dropWrites = this.db.prepare("DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?");
    const drop = (rows: DoomedRow[]) => {
      for (const row of rows) {
        dropCheckpoint.run(row.thread_id, row.checkpoint_ns, row.checkpoint_id);
        dropWrites.run(row.thread_id, row.checkpoint_ns, row.checkpoint_id);
      }
      return rows;
    };
    const run = this.db.transaction(() => {
      // The root's old checkpoints first: the namespaces of the steps they ran are then finished.
      const doomed = drop(select.all(...threadIds, keep));
      return [...doomed, ...drop(selectFinished.all(...threadIds))];
    });
    return run.immediate().map((row) => ({ threadId: row.thread_id, checkpointNs: row.checkpoint_ns, checkpointId: row.checkpoint_id }));
  }

  async crowdedThreads(keep: number, after: string | undefined, limit: number): Promise<string[]> {
    if (!this.ready()) return [];
    return this.db
      .prepare<[string, number, string, number], { thread_id: string }>(
        `SELECT thread_id FROM checkpoints WHERE thread_id > ?
         GROUP BY thread_id, checkpoint_ns HAVING count(*) > ?
         UNION
         -- A subgraph call's namespace older than every root checkpoint (see keepLast), e.g.
         -- left by a version that kept the newest of each namespace.
         SELECT s.thread_id FROM (
           SELECT thread_id, checkpoint_ns, max(checkpoint_id) AS newest FROM checkpoints
           WHERE thread_id > ? AND checkpoint_ns LIKE '%:%' GROUP BY thread_id, checkpoint_ns
         ) s
         WHERE s.newest < (SELECT min(r.checkpoint_id) FROM checkpoints r WHERE r.thread_id = s.thread_id AND r.checkpoint_ns = '')
         ORDER BY thread_id LIMIT ?`,
      )
      .all(after ?? "", keep, after ?? "", limit)
      .map((row) => row.thread_id);
  }

  async idleThreads(cutoff: string, after: string | undefined, limit: number): Promise<string[]> {
    if (!this.ready()) return [];
    return this.db
      .prepare<[string, string, number], { thread_id: string }>(
        `SELECT thread_id FROM checkpoints WHERE thread_id > ?
         GROUP BY thread_id HAVING max(${TS}) < ?
         ORDER BY thread_id LIMIT ?`,
      )
      .all(after ?? "", cutoff, limit)
      .map((row) => row.thread_id);
  }

  async expire(threadId: string, cutoff: string): Promise<boolean> {
    if (!this.ready()) return false;
    const newest = this.db.prepare<[string], { ts: string | null }>(`SELECT max(${TS}) AS ts FROM checkpoints WHERE thread_id = ?`);
    const run = this.db.transaction(() => {
      // Checked again under the write lock: a run that wrote since the scan keeps its thread.
      const ts = newest.get(threadId)?.ts;
      if (ts === null || ts === undefined || ts >= cutoff) return false;
      this.db.prepare("DELETE FROM checkpoints WHERE thread_id = ?").run(threadId);
      this.db.prepare("DELETE FROM writes WHERE thread_id = ?").run(threadId);
      return true;
    });
    return run.immediate();
  }

  /** False until the saver created its tables (nothing stored yet: nothing to prune). */
  private ready(): boolean {
    if (this.checked) return true;
    const tables = this.db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('checkpoints', 'writes')")
      .all()
      .map((row) => row.name);
    if (tables.length < 2) return false;
    checkColumns("checkpoints", this.columns("checkpoints"), ["thread_id", "checkpoint_ns", "checkpoint_id", "parent_checkpoint_id", "type", "checkpoint"]);
    checkColumns("writes", this.columns("writes"), ["thread_id", "checkpoint_ns", "checkpoint_id"]);
    this.checked = true;
    return true;
  }

  private columns(table: string): string[] {
    return this.db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((row) => row.name);
  }
}

/**
 * The checkpoint's time (`ts`, an ISO string, so text order is time order) when the saver wrote it
 * as JSON; a checkpoint of another serialization counts as brand new, so its thread never expires.
 */
const TS = `CASE WHEN type = 'json' THEN coalesce(json_extract(CAST(checkpoint AS TEXT), '$.ts'), '9999') ELSE '9999' END`;

interface DoomedRow {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
}

/** The better-sqlite3 database of a `SqliteSaver` (its public `db`), or undefined for another saver. */
export function sqliteSaverDatabase(saver: BaseCheckpointSaver): Database.Database | undefined {
  const db = (saver as { db?: unknown }).db;
  if (db === null || typeof db !== "object") return undefined;
  const candidate = db as Partial<Record<"prepare" | "transaction" | "pragma", unknown>>;
  return typeof candidate.prepare === "function" && typeof candidate.transaction === "function" && typeof candidate.pragma === "function"
    ? (db as Database.Database)
    : undefined;
}

/** Refuses to prune tables that are not the layout this code was written against. */
export function checkColumns(table: string, have: string[], need: string[]): void {
  const missing = need.filter((column) => !have.includes(column));
  if (missing.length > 0) {
    throw new EngramError(
      "INVALID_OPTIONS",
      `Checkpoint retention: the saver's table ${table} has no column ${missing.join(", ")}; this saver version is not supported, nothing was deleted.`,
    );
  }
}
