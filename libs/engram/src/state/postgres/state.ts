import { ERASED_OWNER } from "../erased_owner.js";
import { THREAD_CLAIM_KEY, type FilingMessage, type FilingState, type JobState, type OutboxState, type StateBackend } from "../types.js";
import { PostgresFilings } from "./filings.js";
import { PgHandle } from "./handle.js";
import { PostgresHistory } from "./history.js";
import { PostgresJobs } from "./jobs.js";
import { PostgresLeases } from "./leases.js";
import { PostgresMeta } from "./meta.js";
import { resolvePostgresOptions, type PostgresStateOptions } from "./options.js";
import { PostgresOutbox } from "./outbox.js";
import { PostgresRevisions } from "./revisions.js";
import { PostgresUsage } from "./usage.js";

/** Every table that names a user: what erasure empties (leases go by themselves, meta names none). */
const USER_TABLES = ["history", "outbox", "jobs", "model_usage", "checkpointer_filed", "checkpointer_queue", "store_revisions"] as const;

/**
 * Shared state in PostgreSQL, for replicas on several machines (docs/deploy.md): every replica
 * constructs one on the same database and schema. Constructing checks the options and does no
 * I/O; `setup()` (or the first call of any part) creates the pool and migrates the schema.
 *
 * @example
 * const state = new PostgresState({ postgres: process.env.DATABASE_URL! });
 * await state.setup();
 */
export class PostgresState implements StateBackend {
  readonly kind = "postgres" as const;

  readonly history: PostgresHistory;

  readonly leases: PostgresLeases;

  readonly meta: PostgresMeta;

  readonly usage: PostgresUsage;

  readonly revisions: PostgresRevisions;

  private readonly handle: PgHandle;

  private outboxPart?: PostgresOutbox<unknown>;

  private readonly queues = new Map<string, PostgresJobs<unknown>>();

  private filingsPart?: PostgresFilings;

  /** @throws EngramError `INVALID_OPTIONS` for a malformed connection string, schema or timing. */
  constructor(options: PostgresStateOptions) {
    this.handle = new PgHandle(resolvePostgresOptions(options));
    this.history = new PostgresHistory(this.handle);
    this.leases = new PostgresLeases(this.handle);
    this.meta = new PostgresMeta(this.handle);
    this.usage = new PostgresUsage(this.handle);
    this.revisions = new PostgresRevisions(this.handle);
  }

  /** The schema holding the tables. */
  get schema(): string {
    return this.handle.schema;
  }

  /**
   * Connects and brings the schema to the current version; idempotent, and safe when replicas
   * call it at once (migrations run under an advisory lock).
   * @throws EngramError `STATE_UNAVAILABLE` when the server cannot be reached.
   */
  async setup(): Promise<void> {
    await this.handle.ready();
  }

  outbox<T>(): OutboxState<T> {
    this.outboxPart ??= new PostgresOutbox<unknown>(this.handle);
    return this.outboxPart as PostgresOutbox<T>;
  }

  jobs<T>(queue: string): PostgresJobs<T> {
    let jobs = this.queues.get(queue);
    if (!jobs) this.queues.set(queue, (jobs = new PostgresJobs<unknown>(this.handle, queue)));
    return jobs as PostgresJobs<T>;
  }

  filings<M extends FilingMessage = FilingMessage>(): FilingState<M> {
    this.filingsPart ??= new PostgresFilings(this.handle);
    return this.filingsPart as unknown as PostgresFilings<M>;
  }

  /** Erases every row of the user in every part (every job queue too), in one transaction. */
  async deleteUser(userId: string): Promise<void> {
    await this.handle.tx("state.deleteUser", async (client) => {
      // The user's checkpointer threads keep an owner that is nobody (ERASED_OWNER): their
      // checkpoints stay in the saver, and no other user may claim and read them.
      const [filed, queue] = [this.handle.table("checkpointer_filed"), this.handle.table("checkpointer_queue")];
      await client.query(
        `INSERT INTO ${filed} (thread_id, user_id, message_key)
         SELECT thread_id, $2, $3 FROM ${filed} WHERE user_id = $1 UNION SELECT thread_id, $2, $3 FROM ${queue} WHERE user_id = $1
         ON CONFLICT DO NOTHING`,
        [userId, ERASED_OWNER, THREAD_CLAIM_KEY],
      );
      for (const table of USER_TABLES) await client.query(`DELETE FROM ${this.handle.table(table)} WHERE user_id = $1`, [userId]);
    });
  }

  /** Ends the pool and any lock connection, and stops refreshing leases. Idempotent. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
