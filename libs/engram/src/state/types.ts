/**
 * The contract of Engram's shared state: everything that is not a vector (the history log, the
 * outbox of store writes, the background job queue, write leases, the folder's metadata, token
 * usage and the checkpointer's filing log). Two backends implement it: SQLite in the data folder
 * (the embedded default, one machine) and PostgreSQL (replicas on several machines; docs/deploy.md).
 *
 * Every method is async so that a networked backend fits; the SQLite backend answers from
 * better-sqlite3 synchronously inside them. Every read and delete is scoped by user: no method
 * returns or removes another user's rows. Each part creates its tables on first use (SQLite) or
 * through the backend's versioned migrations (PostgreSQL, run once by `setup()`).
 */
import type { HistoryEntry } from "../core/types.js";
import type { TokenUsage } from "../core/token_usage.js";

/** What {@link HistoryState.record} takes: an entry without its id, with an optional time. */
export type NewHistoryEntry = Omit<HistoryEntry, "id" | "at"> & { at?: number };

/** Append-only log of what happened to each memory (the `history(id)` API). */
export interface HistoryState {
  /** Appends entries in one transaction (all or none) and returns them with ids and times. */
  record(entries: NewHistoryEntry[]): Promise<HistoryEntry[]>;
  /** One memory's entries, oldest first, for this user only. */
  forMemory(memoryId: string, userId: string): Promise<HistoryEntry[]>;
  /** `forMemory` of many memories in one read: each id with entries, its entries oldest first. */
  forMemories(memoryIds: readonly string[], userId: string): Promise<Map<string, HistoryEntry[]>>;
  /** Removes every entry of the user; returns how many. */
  deleteUser(userId: string): Promise<number>;
  countUser(userId: string): Promise<number>;
  /** Each user's latest entry time, one row per user with entries (the inspector's activity column). */
  latest(): Promise<Array<{ userId: string; at: number }>>;
}

/** A store write to queue; a newer write with the same (user, key) supersedes a pending one. */
export interface OutboxItem<T> {
  userId: string;
  /** Idempotency key naming what the write is about, e.g. `"upsert:<recordId>"`. */
  key: string;
  /** Stored as JSON. */
  payload: T;
  /**
   * The history entry this write records once applied. It is kept beside the payload so that a
   * write replacing this one in the queue (same user and key) carries it: an acknowledged write
   * superseded before it reached the store still shows in `history`. @default none
   */
  history?: NewHistoryEntry | null;
  /**
   * True: when a write of the same user and key is already queued, that write stays and this one
   * is dropped (its seq is the queued write's). For writes decided on a copy read earlier
   * (forgetting, facts): replacing the queued write, the user's own change of the record, would
   * lose it before it reached the store. @default false (the new write replaces the queued one)
   */
  keepQueued?: boolean;
}

/** A queued store write. */
export interface PendingWrite<T> {
  /** Position in the queue; never reused. */
  seq: number;
  userId: string;
  key: string;
  payload: T;
  attempts: number;
  createdAt: number;
  lastError: string | null;
  /**
   * The history entries this write records once applied, oldest first: those of the writes it
   * replaced in the queue, then its own. Fixed for a seq (a replacement gets a new seq). null: the
   * row was queued by a version of Engram that kept only the payload's own entry.
   */
  history: NewHistoryEntry[] | null;
}

/** Options of {@link OutboxState.pending} and {@link OutboxState.claim}. */
export interface PendingOptions {
  /** Only this user's writes. @default every user */
  userId?: string;
  /** At most this many. @default no limit */
  limit?: number;
}

/**
 * The durable queue of store writes (an outage of the vector store loses nothing). A write is
 * queued before it is applied and removed with `complete` only after it is in the store.
 */
export interface OutboxState<T> {
  /**
   * Queues writes in one transaction and returns their seqs, in order. A write replacing a queued
   * one of the same (user, key) takes over its history entries, ahead of its own.
   */
  enqueue(items: Array<OutboxItem<T>>): Promise<number[]>;
  /** Queued writes, oldest first. */
  pending(options?: PendingOptions): Promise<Array<PendingWrite<T>>>;
  /**
   * Like `pending`, but takes a lease of `leaseMs` on the writes returned for `owner`: writes
   * leased by another live owner are skipped, so replicas never drain the same write at once, and
   * the writes of an owner that died are taken over once its lease lapses. A user's writes are
   * claimed in order: while another live owner holds a claim on any write of a user, none of that
   * user's writes is returned (a later delete never overtakes an earlier upsert of the same id).
   */
  claim(owner: string, leaseMs: number, options?: PendingOptions): Promise<Array<PendingWrite<T>>>;
  /** Removes applied writes; returns the seqs this call removed (others were replaced or done). */
  complete(seqs: number[]): Promise<number[]>;
  /**
   * `complete` for writes that reached the store, with their history: in one transaction, removes
   * the writes and appends the history entries of each write this call removed, in the order
   * given (a write another drainer completed first records nothing; one that was replaced records
   * nothing either: the write that replaced it carries its entries). Returns the removed seqs.
   */
  completeApplied(writes: Array<{ seq: number; history: readonly NewHistoryEntry[] }>): Promise<number[]>;
  /** Records a failed attempt (and releases any lease on them). */
  fail(seqs: number[], error: string): Promise<void>;
  size(userId?: string): Promise<number>;
  /** The queued write of a (user, key), if any. */
  find(userId: string, key: string): Promise<PendingWrite<T> | undefined>;
  /** `find` of many keys of a user in one read: the queued writes among them, in no set order. */
  findMany(userId: string, keys: readonly string[]): Promise<Array<PendingWrite<T>>>;
  /** Drops every queued write of the user (erasure); returns how many. */
  deleteUser(userId: string): Promise<number>;
}

/** A background job to record (work that calls a model). */
export interface NewJob<T> {
  userId: string;
  /** Jobs of one group run together, one group at a time per user. */
  group: string;
  /** A job with the same user and key as a queued one is not queued twice. */
  key: string;
  payload: T;
}

/** A queued job. */
export interface Job<T> {
  seq: number;
  userId: string;
  group: string;
  key: string;
  payload: T;
  attempts: number;
  createdAt: number;
  lastError: string | null;
}

/** One named queue of durable background jobs (e.g. `"facts"`). */
export interface JobState<T> {
  /** Records a job; false when one with the same user and key is queued already. */
  add(job: NewJob<T>): Promise<boolean>;
  pending(filter?: { userId?: string; group?: string }): Promise<Array<Job<T>>>;
  /** The (user, group) pairs with queued jobs. */
  groups(): Promise<Array<{ userId: string; group: string }>>;
  /**
   * Like `pending`, but leases the jobs returned to `owner` for `leaseMs`, whole groups only: a
   * group with a job another live owner holds is skipped (so two replicas never run one group at
   * once), and the jobs of an owner that died are taken over once its lease lapses. Claiming again
   * as the same owner renews the lease; `fail` releases it, `complete` removes the jobs.
   */
  claim(owner: string, leaseMs: number, filter?: { userId?: string; group?: string }): Promise<Array<Job<T>>>;
  allQueued(seqs: number[]): Promise<boolean>;
  complete(seqs: number[]): Promise<void>;
  fail(seqs: number[], error: string): Promise<void>;
  size(userId?: string): Promise<number>;
  deleteUser(userId: string): Promise<number>;
}

/**
 * Per-user locks and leases shared by every instance on the state: store writes in flight (so
 * `deleteAll` waits for another instance's drain) and exclusive per-user sections (so two
 * reconciliations of one user's facts never run at once, across replicas).
 */
export interface LeaseState {
  /** Takes a write lease if any of `keys` is still queued in the outbox; undefined when none is. */
  take(userId: string, keys: string[]): Promise<string | undefined>;
  release(id: string): Promise<void>;
  /** Resolves once no live write lease of the user is held by any instance. */
  settled(userId: string): Promise<void>;
  /** Runs `fn` while holding the user's exclusive lock `name` (waits for any other holder). */
  exclusive<R>(userId: string, name: string, fn: () => Promise<R>): Promise<R>;
}

/** A bump of a user's revision: the value it replaced (null: none was recorded) and the new one. */
export interface RevisionBump {
  before: number | null;
  after: number;
}

/**
 * A per-user revision of the user's records in the vector store, kept in the shared state so that
 * an instance can tell whether its in-process index of a user is current with one state read
 * instead of a store round trip (memory/gated_store.ts has the argument). Every writer advances it
 * after the store acknowledged a write of the user's records, before the write counts as done.
 * Values come from one sequence for the whole state, so a value is never taken twice, not even by
 * a user erased and written again.
 */
export interface RevisionState {
  /** The user's revision; null when none is recorded (never written, or erased since). */
  read(userId: string): Promise<number | null>;
  /**
   * Advances the user's revision to a new value, atomically: returns the value it replaced (null:
   * none was recorded) and the new one. Two bumps of a user never return the same `before`
   * unless it is null.
   */
  bump(userId: string): Promise<RevisionBump>;
  /** Drops every user's revision (their store records were replaced, e.g. by `engram reembed`). */
  clear(): Promise<void>;
}

/** Small key-value facts about the state (e.g. which embedding model wrote its vectors). */
export interface MetaState {
  get(key: string): Promise<string | undefined>;
  /** Sets the value unless one is set (`replace: false`); returns the value afterwards. */
  set(key: string, value: string, options: { replace: boolean }): Promise<string>;
  /** True when history or outbox hold any row (data written before a model was recorded). */
  hasData(): Promise<boolean>;
}

/** Token usage of one of Engram's own model calls (`memory.usage()`). */
export interface UsageCall {
  userId: string;
  /** "extraction" | "reconciliation" | "summary" | "importance". */
  kind: string;
  usage: TokenUsage;
}

/** Usage summed per (user, kind). */
export interface UsageTotalsRow {
  userId: string;
  kind: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Calls whose reply carried no usage metadata. */
  unreported: number;
  lastAt: number;
}

export interface UsageState {
  /** Records one call at the state's clock time. */
  record(call: UsageCall): Promise<void>;
  /** Sums per (user, kind), for one user or everyone. */
  totals(filter: { userId?: string }): Promise<UsageTotalsRow[]>;
  deleteUser(userId: string): Promise<number>;
}

/** A message the checkpointer files into long-term memory, stored as JSON. */
export interface FilingMessage {
  key: string;
  [field: string]: unknown;
}

/** Messages of one thread waiting to be filed into one user's long-term memory. */
export interface PendingFiling<M extends FilingMessage = FilingMessage> {
  seq: number;
  threadId: string;
  userId: string;
  messages: M[];
  attempts: number;
}

/**
 * The `message_key` of a thread's claim (`FilingState.claim`): message keys start with "id:" or
 * "text:" (adapters/checkpointer/messages.ts), so it is never a message's.
 */
export const THREAD_CLAIM_KEY = "claim";

/** The checkpointer's bookkeeping: what was taken per (thread, user), and filings not yet done. */
export interface FilingState<M extends FilingMessage = FilingMessage> {
  /**
   * Takes the messages not taken before and queues them, atomically; returns those queued. Takes
   * nothing into a thread left to `ERASED_OWNER` by an erasure (unless `userId` is among its users):
   * a run that passed `claim` before its user was erased files nothing after the erasure.
   */
  take(threadId: string, userId: string, messages: M[]): Promise<M[]>;
  pending(limit: number): Promise<Array<PendingFiling<M>>>;
  /** The seqs of `seqs` still queued: not done, dropped nor erased since `pending` read them. */
  queued(seqs: number[]): Promise<number[]>;
  size(): Promise<number>;
  complete(seqs: number[]): Promise<void>;
  fail(seqs: number[], error: string): Promise<void>;
  usersOf(threadId: string): Promise<string[]>;
  /**
   * The thread's owners: its users (`usersOf`), or `ERASED_OWNER` (state/erased_owner.ts) alone for
   * a thread of an erased user; when it has none, first claims it for `userId`, atomically across
   * every process on the state (two first runs at once: one claims, the other sees it). The claim
   * is a row of the thread and user: `forgetThread` removes it, and the erasure of its user
   * (`StateBackend.deleteUser`) leaves `ERASED_OWNER` in its place.
   */
  claim(threadId: string, userId: string): Promise<string[]>;
  dropPending(threadId: string): Promise<number>;
  forgetThread(threadId: string): Promise<void>;
  /**
   * Erasure of a user: their filing rows of every thread, their threads left to `ERASED_OWNER`
   * (as `StateBackend.deleteUser`), atomically with respect to `take`.
   */
  deleteUser(userId: string): Promise<number>;
}

/** One backend of shared state. Constructing one does no I/O; `setup()` opens and migrates. */
export interface StateBackend {
  /** `"sqlite"` (a data folder) or `"postgres"`; shown in errors and by the CLI. */
  readonly kind: "sqlite" | "postgres";
  /** Opens connections and creates or migrates tables; idempotent, safe when replicas race. */
  setup(): Promise<void>;
  readonly history: HistoryState;
  outbox<T>(): OutboxState<T>;
  jobs<T>(queue: string): JobState<T>;
  readonly leases: LeaseState;
  readonly meta: MetaState;
  readonly usage: UsageState;
  readonly revisions: RevisionState;
  filings<M extends FilingMessage = FilingMessage>(): FilingState<M>;
  /** Erases every row of the user in every part (history, outbox, jobs, usage, filings, revisions). */
  deleteUser(userId: string): Promise<void>;
  close(): Promise<void>;
}
