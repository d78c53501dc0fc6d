import { existsSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  type PendingWrite,
} from "@langchain/langgraph-checkpoint";
import { EngramError } from "../../core/errors.js";
import { refuseUnknownOptions, type OptionNames } from "../../core/option_names.js";
import { validateScope } from "../../core/scope.js";
import type { ScoredMemory } from "../../core/types.js";
import { validateImportance } from "../../core/validate.js";
import { runNamesUser, scopeFromRun } from "../../turn/scope.js";
import { defaultWarningHandler } from "../../graph/types.js";
import type { Memory } from "../../memory/memory.js";
import { openDatabase } from "../../state/sqlite/database.js";
import { SqliteState } from "../../state/sqlite/index.js";
import type { FilingState, StateBackend } from "../../state/types.js";
import { FILING_LOCK } from "../../memory/delete_all_filings.js";
import { FilingWorker } from "./filing_worker.js";
import { moveLegacyFilings } from "./legacy_log.js";
import { filableMessages, type FilableMessage } from "./messages.js";
import { moveNumericThreadIds } from "./numeric_thread_ids.js";
import { sqliteSaverDatabase } from "./prune_sqlite.js";
import type {
  CheckpointerFlushResult,
  CheckpointerRecallOptions,
  DeletedThreadMemories,
  EngramCheckpointerOptions,
} from "./options.js";
import { prunerFor, RetentionRunner, validateRetention, type CheckpointPruner, type PruneResult } from "./retention.js";

/** File name of the default SQLite saver and of the bookkeeping, inside Memory's data folder. */
export const CHECKPOINTS_FILE_NAME = "checkpoints.sqlite";

/**
 * The name of a thread's lock (`LeaseState.exclusive`, keyed by the thread id in place of a user
 * id): the writes of runs that name a user, and `deleteThread`, take it.
 */
const THREAD_LOCK = "checkpointer-thread";

/** Every name of EngramCheckpointerOptions. */
const CHECKPOINTER_OPTIONS: OptionNames<EngramCheckpointerOptions> = {
  memory: true,
  saver: true,
  databasePath: true,
  state: true,
  retention: true,
  onWarning: true,
  clock: true,
  messagesChannel: true,
  importance: true,
  onFilingError: true,
};

/** The most `Memory.search` returns in one call. */
const MAX_SEARCH_LIMIT = 1_000;

type DeltaHistoryOptions = Parameters<BaseCheckpointSaver["getDeltaChannelHistory"]>[0];
type DeltaHistory = Awaited<ReturnType<BaseCheckpointSaver["getDeltaChannelHistory"]>>;

/**
 * A LangGraph checkpointer that wraps any other one and gives the graph long-term memory across
 * threads: checkpoints are stored by the inner saver, unchanged, and each new human and AI message
 * of a checkpoint is filed into `Memory` for the user in `config.configurable.user_id`.
 *
 * ```ts
 * const checkpointer = new EngramCheckpointer({ memory }); // SQLite in the data folder
 * const agent = createReactAgent({ llm, tools, checkpointer });
 * await agent.invoke(input, { configurable: { thread_id: "t1", user_id: "alice" } });
 * ```
 *
 * - Off the hot path: `put()` returns once the inner saver has stored the checkpoint and the
 *   filing is recorded in the filing log (SQLite: a few hundred microseconds); embedding and the
 *   store write run after it, in the background, one filing at a time. `flush()` waits for them.
 *   A filing recorded but not done when the process dies is done by the next checkpointer on the
 *   same log.
 * - No `user_id` in the config: the checkpoint is stored and nothing is filed.
 * - A message is filed once per thread and user (by message id, or role and text), however many
 *   checkpoints repeat it; tool and system messages, and AI messages without text, are not filed.
 * - A thread belongs to the user of its first run: a run of another user on it is refused
 *   (`INVALID_SCOPE`) before the model sees the thread or anything is filed.
 * - `deleteThread` deletes the checkpoints and the thread's memories of every user who filed into it;
 *   a write of a run in flight on the thread, in any process on the state, lands before or after it.
 * - `retention` (off by default) keeps the last N checkpoints of a thread and expires idle threads
 *   over `SqliteSaver` and `PostgresSaver`: `prune()`, or a background sweep.
 */
export class EngramCheckpointer extends BaseCheckpointSaver {
  static lc_name(): string {
    return "EngramCheckpointer";
  }

  private readonly memory: Memory;

  private readonly databasePath: string;

  private readonly messagesChannel: string;

  private readonly givenSaver?: BaseCheckpointSaver;

  private readonly worker: FilingWorker;

  private readonly retention?: RetentionRunner;

  private db?: Database.Database;

  private defaultSaver?: Promise<BaseCheckpointSaver>;

  private filings?: Promise<FilingState<FilableMessage>>;

  private pruner?: CheckpointPruner;

  /** Set once `close()` is called: new calls are refused from then on. */
  private closing?: Promise<void>;

  /** Set once the calls in flight at `close()` have settled: the bookkeeping then closes. */
  private closed = false;

  /** Calls in flight (writes and reads of the saver), which `close()` waits for. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: EngramCheckpointerOptions) {
    super(options?.saver?.serde);
    if (!options || typeof options !== "object" || !options.memory) {
      throw new EngramError("INVALID_OPTIONS", "EngramCheckpointer needs { memory }: the Memory that messages are filed into.");
    }
    refuseUnknownOptions(options, "EngramCheckpointer", CHECKPOINTER_OPTIONS, "{ memory, retention: { keepLast: 20 } }");
    this.memory = options.memory;
    this.givenSaver = options.saver;
    this.databasePath = options.databasePath ?? join(options.memory.dataFolder, CHECKPOINTS_FILE_NAME);
    this.messagesChannel = options.messagesChannel ?? "messages";
    const importance = options.importance === undefined ? 0.5 : validateImportance(options.importance);
    this.worker = new FilingWorker(
      this.memory,
      () => this.filingLog(),
      (userId, fn) => this.state().leases.exclusive(userId, FILING_LOCK, fn),
      importance,
      options.onFilingError,
    );
    const retention = validateRetention(options.retention);
    if (retention && (retention.keepLast !== undefined || retention.idleTtlMs !== undefined)) {
      // A given saver Engram cannot prune is refused now, before anything is stored.
      if (this.givenSaver) this.pruner = prunerFor(this.givenSaver);
      this.retention = new RetentionRunner({
        retention,
        pruner: async () => (this.pruner ??= prunerFor(await this.getSaver())),
        fileWaiting: () => this.worker.fileWaiting(),
        clock: options.clock ?? Date.now,
        warn: options.onWarning ?? defaultWarningHandler,
      });
    }
  }

  /**
   * The saver that stores the checkpoints: the one in options, or the default `SqliteSaver`
   * (loaded and opened on first use: an app that passes its own saver never loads better-sqlite3).
   */
  async getSaver(): Promise<BaseCheckpointSaver> {
    if (this.givenSaver) {
      // A SqliteSaver of the app's own had the same '1.0' rows: moved as the default's are.
      if (sqliteSaverDatabase(this.givenSaver)) await this.filingLog();
      return this.givenSaver;
    }
    this.open();
    // Opening the filing log moves the checkpoints older versions stored under a numeric
    // thread id's REAL text (numeric_thread_ids.ts): done before the saver reads any thread.
    await this.filingLog();
    this.defaultSaver ??= import("@langchain/langgraph-checkpoint-sqlite").then(({ SqliteSaver }) => new SqliteSaver(this.open()));
    return this.defaultSaver;
  }

  /**
   * The inner saver's tuple. A run that names a user other than the thread's (see `checkOwner`) is
   * refused with `INVALID_SCOPE`: LangGraph reads the thread here before its first step, so the
   * run stops before the model sees the other user's conversation.
   */
  override getTuple(given: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const config = withStringThreadId(given);
    return this.tracked(async () => {
      const tuple = await (await this.getSaver()).getTuple(config);
      if (tuple !== undefined) await this.checkOwner(config);
      return tuple;
    });
  }

  /**
   * The inner saver's list. On one thread, checked as `getTuple`. Across threads (no thread_id),
   * a config that names a user lists the threads that user owns only: the saver would list every
   * user's checkpoints; one that names no user (the app's own) lists every thread.
   */
  override async *list(given: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    const config = withStringThreadId(given);
    await this.checkOwner(config);
    const saver = await this.getSaver();
    if (!runNamesUser(config) || scopeFromRun(config, "EngramCheckpointer").threadId !== undefined) {
      yield* saver.list(config, options);
      return;
    }
    const { userId } = scopeFromRun(config, "EngramCheckpointer");
    const log = await this.filingLog();
    const owned = new Map<string, boolean>();
    const { limit, ...rest } = options ?? {};
    let left = limit ?? Infinity;
    if (left <= 0) return;
    // The limit counts the user's checkpoints: the saver's would count the ones left out too.
    for await (const tuple of saver.list(config, rest)) {
      const threadId = tuple.config.configurable?.thread_id;
      if (typeof threadId !== "string") continue;
      let mine = owned.get(threadId);
      if (mine === undefined) owned.set(threadId, (mine = (await log.usersOf(threadId)).includes(userId)));
      if (!mine) continue;
      yield tuple;
      if (--left <= 0) return;
    }
  }

  /** The inner saver's; checked as `put` (another user's pending writes would resume in the owner's next run). */
  override putWrites(given: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    const config = withStringThreadId(given);
    return this.tracked(() =>
      this.underThreadLock(config, async () => {
        await this.checkOwner(config);
        return (await this.getSaver()).putWrites(config, writes, taskId, taskPath);
      }),
    );
  }

  override async getDeltaChannelHistory(options: DeltaHistoryOptions): Promise<DeltaHistory> {
    return (await this.getSaver()).getDeltaChannelHistory(options);
  }

  override getNextVersion(current: number | undefined): number {
    // SqliteSaver keeps the base class's versions; a given saver may have its own.
    return this.givenSaver ? this.givenSaver.getNextVersion(current) : super.getNextVersion(current);
  }

  /**
   * Stores the checkpoint with the inner saver, then records the filing of its new messages and
   * returns; the filing itself runs in the background.
   * @throws EngramError `INVALID_USER_ID` / `INVALID_SCOPE` when `user_id` or `thread_id` is
   * present but not a usable id (checked before anything is stored).
   */
  override put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    return this.tracked(() => this.store(withStringThreadId(config), checkpoint, metadata, newVersions));
  }

  private async store(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const filer = this.filerOf(config);
    const stored = await this.underThreadLock(config, async () => {
      if (filer) await this.checkOwner(config);
      const done = await (await this.getSaver()).put(config, checkpoint, metadata, newVersions);
      // Only the root graph's messages are the thread's conversation. A subgraph's checkpoints
      // (checkpoint_ns "node:<task id>") hold its own: a supervisor's instruction to a worker
      // agent was filed as something the user said, and the worker's internal replies with it.
      // What a subgraph returns to the root is filed from the root's next checkpoint.
      if (filer && (config.configurable?.checkpoint_ns ?? "") === "") {
        const messages = filableMessages(checkpoint.channel_values?.[this.messagesChannel]);
        await this.worker.record(filer.threadId, filer.userId, messages);
      }
      return done;
    });
    this.retention?.start();
    return stored;
  }

  /**
   * Deletes the thread's checkpoints (inner saver), then its memories (`deleteThreadMemories`),
   * which frees the thread id. A run's `put` or `putWrites` in flight on the thread, in any process
   * on the state, lands before (and is deleted) or after (on a thread that is then its user's).
   */
  override async deleteThread(threadId: string): Promise<void> {
    if (typeof threadId === "string" && threadId !== "" && unsafeThreadId(threadId)) {
      // An id Memory's scope refuses (over 256 characters, a tab...): every run that named a user
      // on it was refused before storing anything, so only runs that named no user stored
      // checkpoints under it, and it has no memories, claims or filings. Refusing it here left
      // those checkpoints beyond the app's reach.
      await this.tracked(async () => (await this.getSaver()).deleteThread(threadId));
      return;
    }
    const id = checkThreadId(threadId);
    await this.tracked(() =>
      this.threadLock(id, async () => {
        await (await this.getSaver()).deleteThread(id);
        await this.worker.deleteThreadMemories(id);
      }),
    );
  }

  /**
   * Deletes the memories filed from a thread, for every user who filed into it, and drops its
   * filings still waiting. Safe to call again after a failure (the users are known until it
   * succeeds).
   */
  async deleteThreadMemories(threadId: string): Promise<DeletedThreadMemories> {
    const id = checkThreadId(threadId);
    return this.tracked(() => this.worker.deleteThreadMemories(id));
  }

  /**
   * Applies `retention` now: deletes the checkpoints of each thread beyond `keepLast` (never the
   * newest, nor one whose writes a run may resume from), then files every waiting filing and
   * deletes the threads idle longer than `idleTtlMs`. Without `retention`, deletes nothing.
   * @throws the outage that stopped the filing (then no thread expired), or the saver's error.
   */
  async prune(): Promise<PruneResult> {
    this.checkOpen();
    if (!this.retention) return { pruned: 0, expired: [] };
    return this.retention.prune();
  }

  /**
   * Memories of the user in `config.configurable.user_id` that bear on `query`, best first: the
   * recall step of an agent (put them in its prompt, marked as recalled data).
   * @throws EngramError `INVALID_USER_ID` when the config names no user.
   */
  async recall(query: string, config: RunnableConfig, options: CheckpointerRecallOptions = {}): Promise<ScoredMemory[]> {
    // The turn core resolves every door's user and thread (turn/scope.ts): a numeric thread_id
    // is the string its memories were filed under, so its own memories are left out too.
    const run = scopeFromRun(config, "EngramCheckpointer.recall");
    const scope = { userId: run.userId };
    const limit = options.limit ?? 5;
    const threadId = run.threadId;
    let found: ScoredMemory[];
    if (options.otherThreadsOnly === false || typeof threadId !== "string") {
      found = await this.memory.search(query, { ...scope, limit });
    } else {
      // Memory can narrow a search to one thread but not exclude one: ask for more, drop this
      // thread's, and ask for more again while they fill the answer. A long thread's own messages
      // are the nearest to its own question: asked once, its 40 nearest could all be its own, and
      // nothing of the user's other threads was recalled.
      let asked = Math.min(limit * 4 + 20, MAX_SEARCH_LIMIT);
      for (;;) {
        const hits = await this.memory.search(query, { ...scope, limit: asked });
        found = hits.filter((hit) => hit.scope.threadId !== threadId).slice(0, limit);
        if (found.length >= limit || hits.length < asked || asked >= MAX_SEARCH_LIMIT) break;
        asked = Math.min(asked * 4, MAX_SEARCH_LIMIT);
      }
    }
    if (typeof threadId === "string") this.worker.noteShown(scope.userId, threadId, found);
    return found;
  }

  /**
   * Waits for every recorded filing to reach Memory (which writes through its own outbox).
   * @throws the outage (e.g. EngramError `EMBEDDING_FAILED`, `CLOSED`) that stopped it; the
   * filings stay recorded and are retried.
   */
  async flush(): Promise<CheckpointerFlushResult> {
    this.checkOpen();
    return this.worker.flush();
  }

  /**
   * Refuses new calls (`CLOSED`), waits for the calls in flight (a run's `put` lands whole: its
   * checkpoint and the record of its filing), stops the retention sweep, waits for the filing in
   * progress and closes the bookkeeping database and the default saver. Neither the Memory, a
   * saver nor a state passed in options is closed. Filings still recorded are done by the next
   * checkpointer on the same log.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    // Closing under a put in flight stored its checkpoint and then failed to record its filing
    // (or, with the default saver, closed the database under it): the run failed, and its new
    // messages were never filed by any process unless the thread had another turn.
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.closed = true;
    await this.retention?.stop();
    await this.worker.idle();
    this.db?.close();
    this.db = undefined;
  }

  /** Runs a call unless `close()` was called, and lets `close()` wait for it. */
  private tracked<T>(call: () => Promise<T>): Promise<T> {
    if (this.closing || this.closed) return Promise.reject(new EngramError("CLOSED", "This EngramCheckpointer was closed."));
    const running = call();
    this.inFlight.add(running);
    const settle = () => this.inFlight.delete(running);
    running.then(settle, settle);
    return running;
  }

  /**
   * A thread belongs to the users who filed into it (the first run's user; threads shared before
   * this check keep every user they had). Its checkpoints are kept by thread_id alone, so a run of
   * another user on a reused thread id would load the first user's conversation into the model's
   * prompt and file all of it into that user's long-term memory, recalled in every thread of theirs.
   * Refused with `INVALID_SCOPE`; a config without a user or thread is not checked. The filing log
   * says who filed where, in every process that shares it, until `deleteThread` frees the id.
   *
   * The first named user to reach a thread claims it here, in the same atomic step as the check
   * (`FilingState.claim`): two users' first runs at once, in two processes, cannot both pass. A
   * thread stored so far only by runs that named no user is unowned, and the first named user's
   * run claims it: such runs are the app's own (stored, never filed) and name no one to protect.
   */
  private async checkOwner(config: RunnableConfig): Promise<void> {
    if (!runNamesUser(config)) return;
    const { userId, threadId } = scopeFromRun(config, "EngramCheckpointer");
    if (threadId === undefined) return;
    const users = await (await this.filingLog()).claim(threadId, userId);
    if (!users.includes(userId)) {
      throw new EngramError(
        "INVALID_SCOPE",
        "EngramCheckpointer: this thread belongs to another user; give each user threads of their own (thread_id).",
      );
    }
  }

  /**
   * Runs a write of a run that names a user on its thread (its owner check, the saver's write and
   * the filing's record) under the thread's lock, across every process on the state, as
   * `deleteThread` runs. Without it a checkpoint whose owner check passed before `deleteThread`
   * could land after the thread's checkpoints were deleted and its id freed: in a thread with no
   * owner, which another user's first run would claim and read. Other writes are not checked, so
   * they take no lock.
   */
  private underThreadLock<T>(config: RunnableConfig, write: () => Promise<T>): Promise<T> {
    if (!runNamesUser(config)) return write();
    const { threadId } = scopeFromRun(config, "EngramCheckpointer");
    return threadId === undefined ? write() : this.threadLock(threadId, write);
  }

  private async threadLock<T>(threadId: string, section: () => Promise<T>): Promise<T> {
    // The state must be open (setup) before its leases are used: the filing log opens it.
    await this.filingLog();
    return this.state().leases.exclusive(threadId, THREAD_LOCK, section);
  }

  /** The state that keeps the filing log and the locks. */
  private state(): StateBackend {
    return this.options.state ?? this.memory.state;
  }

  /** The user and thread to file for, or undefined when the config names no user. */
  private filerOf(config: RunnableConfig): { userId: string; threadId: string } | undefined {
    // A run that names no user is stored and not filed; one that names a bad user is refused.
    if (!runNamesUser(config)) return undefined;
    const scope = scopeFromRun(config, "EngramCheckpointer");
    if (scope.threadId === undefined) {
      throw new EngramError("INVALID_SCOPE", "config.configurable.thread_id is required to file messages.");
    }
    return { userId: scope.userId, threadId: scope.threadId };
  }

  /**
   * The filing log, opened on first use; filings a previous process recorded but did not finish
   * are then filed in the background.
   */
  private filingLog(): Promise<FilingState<FilableMessage>> {
    if (this.closed) return Promise.reject(new EngramError("CLOSED", "This EngramCheckpointer was closed."));
    if (!this.filings) {
      const opening = this.openFilingLog();
      this.filings = opening;
      opening
        .then(
          async (log) => ((await log.size()) > 0 ? this.worker.resume() : undefined),
          () => {
            // A state that could not be reached (PostgreSQL down) is tried again on the next call.
            if (this.filings === opening) this.filings = undefined;
          },
        )
        .catch(() => undefined);
    }
    return this.filings;
  }

  private async openFilingLog(): Promise<FilingState<FilableMessage>> {
    // Memory's state (or the one in options) keeps the log, SQLite as PostgreSQL: Memory.deleteAll
    // erases the user's rows of it there, in the same step as the rest of the user.
    const state = this.state();
    await state.setup();
    const log = state.filings<FilableMessage>();
    if (state instanceof SqliteState && existsSync(this.databasePath)) {
      // Older versions kept it in the checkpoints file: moved once (legacy_log.ts).
      await log.size(); // creates the state's filing tables
      moveLegacyFilings(this.open(), this.databasePath, state.file);
    }
    // Before any claim: a claim of "1.0" made first would keep the checkpoints found there.
    const saverDb = this.givenSaver ? sqliteSaverDatabase(this.givenSaver) : existsSync(this.databasePath) ? this.open() : undefined;
    if (saverDb) await moveNumericThreadIds(saverDb, (threadId) => log.usersOf(threadId));
    return log;
  }

  /** The bookkeeping database (and the default saver's), opened on first use. */
  private open(): Database.Database {
    if (this.closed) throw new EngramError("CLOSED", "This EngramCheckpointer was closed.");
    this.db ??= openDatabase(this.databasePath);
    return this.db;
  }

  private checkOpen(): void {
    if (this.closing || this.closed) throw new EngramError("CLOSED", "This EngramCheckpointer was closed.");
  }
}

/**
 * The config as the saver gets it: a numeric `thread_id` (the LangGraph API's habit) as its
 * string, the id Engram claims and files it under (turn/scope.ts). SqliteSaver stored the number
 * 1 as "1.0" (better-sqlite3 binds it as REAL), so `deleteThread("1")` erased the memories and
 * the claim and left the checkpoints, which the next user's run with thread_id 1 claimed and read.
 */
function withStringThreadId(config: RunnableConfig): RunnableConfig {
  const threadId = config?.configurable?.thread_id;
  if (typeof threadId !== "number") return config;
  return { ...config, configurable: { ...config.configurable, thread_id: String(threadId) } };
}

/** True when Memory's scope refuses this thread id. */
function unsafeThreadId(threadId: string): boolean {
  try {
    checkThreadId(threadId);
    return false;
  } catch {
    return true;
  }
}

/** A thread id as Memory's scope takes it (checked before anything is deleted). */
function checkThreadId(threadId: unknown): string {
  const scope = validateScope({ userId: "thread-check", threadId });
  if (scope.threadId === undefined) throw new EngramError("INVALID_SCOPE", "threadId is required.");
  return scope.threadId;
}
