/**
 * `SqliteState`: the embedded default backend of shared state, one SQLite file in the data folder
 * (`<folder>/engram.sqlite`) that every part shares, so one transaction can span them.
 */
import { extname } from "node:path";
import type Database from "better-sqlite3";
import { EngramError } from "../../core/errors.js";
import { ERASED_OWNER } from "../erased_owner.js";
import { THREAD_CLAIM_KEY, type FilingMessage, type FilingState, type JobState, type OutboxState, type StateBackend } from "../types.js";
import { databaseFile, openDatabase, runSql, type SqliteHandle } from "./database.js";
import { SqliteFilings } from "./filings.js";
import { SqliteHistory } from "./history.js";
import { SqliteJobs } from "./jobs.js";
import { SqliteLeases } from "./leases.js";
import { SqliteMeta } from "./meta.js";
import { SqliteOutbox } from "./outbox.js";
import { keepReserve, spendReserve } from "./reserve.js";
import { SqliteRevisions } from "./revisions.js";
import { SqliteUsage } from "./usage.js";

/** Options of {@link SqliteState}. */
export interface SqliteStateOptions {
  /**
   * The data folder (the state is `<folder>/engram.sqlite`), or the path of a file ending in
   * `.sqlite` or `.db`.
   */
  path: string;
  /** Time of rows (history, outbox, jobs, usage), replaceable in tests. @default Date.now */
  clock?: () => number;
}

/**
 * Shared state in SQLite: for one machine (processes on one data folder share it; they are told
 * apart by pid for leases). Constructing does no I/O and loads no native addon; the file opens on
 * `setup()` or the first call of any part.
 */
export class SqliteState implements StateBackend {
  readonly kind = "sqlite" as const;

  /** The SQLite file. */
  readonly file: string;

  readonly history: SqliteHistory;

  readonly leases: SqliteLeases;

  readonly meta: SqliteMeta;

  readonly usage: SqliteUsage;

  readonly revisions: SqliteRevisions;

  private db?: Database.Database;

  private closed = false;

  private readonly handle: SqliteHandle;

  private outboxPart?: SqliteOutbox<unknown>;

  private readonly queues = new Map<string, SqliteJobs<unknown>>();

  private filingsPart?: SqliteFilings;

  constructor(options: SqliteStateOptions) {
    const ext = extname(options.path).toLowerCase();
    this.file = ext === ".sqlite" || ext === ".db" ? options.path : databaseFile(options.path);
    this.handle = { db: () => this.connection(), clock: options.clock ?? Date.now };
    this.history = new SqliteHistory(this.handle);
    this.leases = new SqliteLeases(this.handle);
    this.meta = new SqliteMeta(this.handle);
    this.usage = new SqliteUsage(this.handle);
    this.revisions = new SqliteRevisions(this.handle);
  }

  async setup(): Promise<void> {
    this.connection();
  }

  outbox<T>(): OutboxState<T> {
    this.outboxPart ??= new SqliteOutbox<unknown>(this.handle, this.history);
    return this.outboxPart as SqliteOutbox<T>;
  }

  jobs<T>(queue: string): JobState<T> {
    let jobs = this.queues.get(queue);
    if (!jobs) this.queues.set(queue, (jobs = new SqliteJobs<unknown>(this.handle, queue)));
    return jobs as SqliteJobs<T>;
  }

  filings<M extends FilingMessage = FilingMessage>(): FilingState<M> {
    this.filingsPart ??= new SqliteFilings(this.handle);
    return this.filingsPart as unknown as SqliteFilings<M>;
  }

  /** Erases the user from every part, in one transaction. */
  async deleteUser(userId: string): Promise<void> {
    const db = this.connection();
    // Each part makes its table first (outside the transaction: DDL of a missing table).
    await Promise.all([
      this.history.countUser(userId),
      this.outbox().size(userId),
      this.jobs("facts").size(userId),
      this.usage.totals({ userId }),
      this.filings().size(),
    ]);
    this.revisions.ensureTables();
    runSql(db, "state.deleteUser", () =>
      db.transaction(() => {
        // The user's checkpointer threads keep an owner that is nobody (ERASED_OWNER): their
        // checkpoints stay in the saver, and no other user may claim and read them.
        db.prepare(
          `INSERT OR IGNORE INTO engram_checkpointer_filed (thread_id, user_id, message_key)
           SELECT thread_id, ?, ? FROM engram_checkpointer_filed WHERE user_id = ?
           UNION SELECT thread_id, ?, ? FROM engram_checkpointer_queue WHERE user_id = ?`,
        ).run(ERASED_OWNER, THREAD_CLAIM_KEY, userId, ERASED_OWNER, THREAD_CLAIM_KEY, userId);
        for (const table of ["history", "outbox", "jobs", "model_usage", "engram_checkpointer_filed", "engram_checkpointer_queue", "store_revisions"]) {
          db.prepare(`DELETE FROM ${table} WHERE user_id = ?`).run(userId);
        }
      })(),
    );
  }

  async close(): Promise<void> {
    // Rows of leases and locks this instance ended but could not remove (a full disk then): a last
    // try, or other instances on the file wait them out (a minute). On a disk still full, the
    // reserve beside the file makes the room for it (reserve.ts).
    if (this.db?.open && !this.leases.releaseLeftovers() && spendReserve(this.file)) this.leases.releaseLeftovers();
    this.closed = true;
    this.db?.close();
  }

  private connection(): Database.Database {
    if (this.closed) throw new EngramError("CLOSED", "The SQLite state was closed.");
    if (!this.db) {
      this.db = openDatabase(this.file);
      keepReserve(this.file);
    }
    return this.db;
  }
}

export { openDatabase, databaseFile, DATABASE_FILE_NAME, runSql } from "./database.js";
