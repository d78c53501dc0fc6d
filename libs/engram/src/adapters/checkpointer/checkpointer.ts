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
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { EngramError } from "../../core/errors.js";
import { validateScope } from "../../core/scope.js";
import type { ScoredMemory } from "../../core/types.js";
import { validateImportance } from "../../core/validate.js";
import type { Memory } from "../../memory/memory.js";
import { openDatabase } from "../../store/sqlite.js";
import { fileMessages, groupFilings, type FilingGroup, type FilingOutcome } from "./filer.js";
import { FilingLog } from "./filing_log.js";
import { filableMessages } from "./messages.js";
import { stripEngramContext } from "../../turn/engram_context.js";

/** Threads whose last recall is remembered for filing (least recently recalled dropped past it). */
const MAX_SHOWN_THREADS = 1_000;
import type {
  CheckpointerFlushResult,
  CheckpointerRecallOptions,
  DeletedThreadMemories,
  EngramCheckpointerOptions,
} from "./options.js";

/** File name of the default SQLite saver and of the bookkeeping, inside Memory's data folder. */
export const CHECKPOINTS_FILE_NAME = "checkpoints.sqlite";

/** Filings read from the log at a time. */
const FILINGS_PER_READ = 256;

/** Most messages handed to one `Memory.add` (one embedding batch). */
const MESSAGES_PER_ADD = 64;

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
 *   filing is recorded in SQLite (a few hundred microseconds); embedding and the store write run
 *   after it, in the background, one filing at a time. `flush()` waits for them. A filing recorded
 *   but not done when the process dies is done by the next checkpointer on the same file.
 * - No `user_id` in the config: the checkpoint is stored and nothing is filed.
 * - A message is filed once per thread and user (by message id, or role and text), however many
 *   checkpoints repeat it; tool and system messages, and AI messages without text, are not filed.
 * - `deleteThread` deletes the checkpoints and the thread's memories of every user who filed into it.
 */
export class EngramCheckpointer extends BaseCheckpointSaver {
  static lc_name(): string {
    return "EngramCheckpointer";
  }

  private readonly memory: Memory;

  private readonly databasePath: string;

  private readonly messagesChannel: string;

  private readonly importance: number;

  private readonly givenSaver?: BaseCheckpointSaver;

  private db?: Database.Database;

  private defaultSaver?: SqliteSaver;

  private log?: FilingLog;

  /** Filings and thread erasures run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();

  private drainScheduled = false;

  private filedSinceFlush = 0;

  private skipped: CheckpointerFlushResult["skipped"] = [];

  private closed = false;

  /** What `recall` last returned per (user, thread): never filed back when a reply echoes it. */
  private readonly shown = new Map<string, string[]>();

  constructor(private readonly options: EngramCheckpointerOptions) {
    super(options?.saver?.serde);
    if (!options || typeof options !== "object" || !options.memory) {
      throw new EngramError("INVALID_OPTIONS", "EngramCheckpointer needs { memory }: the Memory that messages are filed into.");
    }
    this.memory = options.memory;
    this.givenSaver = options.saver;
    this.databasePath = options.databasePath ?? join(options.memory.dataFolder, CHECKPOINTS_FILE_NAME);
    this.messagesChannel = options.messagesChannel ?? "messages";
    this.importance = options.importance === undefined ? 0.5 : validateImportance(options.importance);
  }

  /** The saver that stores the checkpoints (the default SQLite one is opened on first use). */
  get saver(): BaseCheckpointSaver {
    if (this.givenSaver) return this.givenSaver;
    if (!this.defaultSaver) this.defaultSaver = new SqliteSaver(this.open().db);
    return this.defaultSaver;
  }

  override getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    return this.saver.getTuple(config);
  }

  override async *list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    yield* this.saver.list(config, options);
  }

  override putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    return this.saver.putWrites(config, writes, taskId, taskPath);
  }

  override getDeltaChannelHistory(options: DeltaHistoryOptions): Promise<DeltaHistory> {
    return this.saver.getDeltaChannelHistory(options);
  }

  override getNextVersion(current: number | undefined): number {
    return this.saver.getNextVersion(current);
  }

  /**
   * Stores the checkpoint with the inner saver, then records the filing of its new messages and
   * returns; the filing itself runs in the background.
   * @throws EngramError `INVALID_USER_ID` / `INVALID_SCOPE` when `user_id` or `thread_id` is
   * present but not a usable id (checked before anything is stored).
   */
  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const filer = this.filerOf(config);
    const stored = await this.saver.put(config, checkpoint, metadata, newVersions);
    if (filer) {
      const messages = filableMessages(checkpoint.channel_values?.[this.messagesChannel]);
      if (messages.length > 0 && this.open().log.take(filer.threadId, filer.userId, messages).length > 0) {
        this.scheduleDrain();
      }
    }
    return stored;
  }

  /** Deletes the thread's checkpoints (inner saver), then its memories (`deleteThreadMemories`). */
  override async deleteThread(threadId: string): Promise<void> {
    checkThreadId(threadId);
    await this.saver.deleteThread(threadId);
    await this.deleteThreadMemories(threadId);
  }

  /**
   * Deletes the memories filed from a thread, for every user who filed into it, and drops its
   * filings still waiting. Safe to call again after a failure (the users are known until it
   * succeeds).
   */
  async deleteThreadMemories(threadId: string): Promise<DeletedThreadMemories> {
    const id = checkThreadId(threadId);
    return this.exclusive(async () => {
      const { log } = this.open();
      // Waiting filings first, so nothing of the thread can be filed after its memories are gone.
      const dropped = log.dropPending(id);
      const deleted: Record<string, number> = {};
      for (const userId of log.usersOf(id)) {
        deleted[userId] = 0;
        for (;;) {
          const page = await this.memory.getAll({ userId, threadId: id, limit: 1_000 });
          if (page.length === 0) break;
          for (const record of page) await this.memory.delete(record.id, { userId });
          deleted[userId] += page.length;
        }
      }
      log.forgetThread(id);
      return { threadId: id, deleted, dropped };
    });
  }

  /**
   * Memories of the user in `config.configurable.user_id` that bear on `query`, best first: the
   * recall step of an agent (put them in its prompt, marked as recalled data).
   * @throws EngramError `INVALID_USER_ID` when the config names no user.
   */
  async recall(query: string, config: RunnableConfig, options: CheckpointerRecallOptions = {}): Promise<ScoredMemory[]> {
    const configurable = config?.configurable ?? {};
    const scope = validateScope({ userId: configurable.user_id });
    const limit = options.limit ?? 5;
    const threadId = configurable.thread_id;
    let found: ScoredMemory[];
    if (options.otherThreadsOnly === false || typeof threadId !== "string") {
      found = await this.memory.search(query, { ...scope, limit });
    } else {
      // Memory can narrow a search to one thread but not exclude one: ask for more, drop this thread's.
      const hits = await this.memory.search(query, { ...scope, limit: Math.min(limit * 4 + 20, 1_000) });
      found = hits.filter((hit) => hit.scope.threadId !== threadId).slice(0, limit);
    }
    if (typeof threadId === "string") this.noteShown(scope.userId, threadId, found);
    return found;
  }

  /**
   * Waits for every recorded filing to reach Memory (which writes through its own outbox).
   * @throws the outage (e.g. EngramError `EMBEDDING_FAILED`, `CLOSED`) that stopped it; the
   * filings stay recorded and are retried.
   */
  async flush(): Promise<CheckpointerFlushResult> {
    const error = await this.exclusive(() => this.drain());
    if (error) throw error;
    const result = { filed: this.filedSinceFlush, skipped: this.skipped, pending: this.open().log.size() };
    this.filedSinceFlush = 0;
    this.skipped = [];
    return result;
  }

  /**
   * Waits for the filing in progress and closes the bookkeeping database and the default saver.
   * Neither the Memory nor a saver passed in options is closed. Filings still recorded are done by
   * the next checkpointer on the same file.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.exclusive(async () => undefined);
    this.db?.close();
    this.db = undefined;
    this.log = undefined;
  }

  /** Keeps what a recall showed for a thread, so that a reply echoing it files only the rest. */
  private noteShown(userId: string, threadId: string, found: ScoredMemory[]): void {
    const key = JSON.stringify([userId, threadId]);
    this.shown.delete(key);
    this.shown.set(key, found.map((hit) => hit.content));
    if (this.shown.size > MAX_SHOWN_THREADS) this.shown.delete(this.shown.keys().next().value!);
  }

  /**
   * The group without what Engram put into the prompt (a recalled-memories section, or a line
   * that is one of the memories `recall` returned for the thread) in the assistant's messages.
   */
  private withoutEngramContext(group: FilingGroup): FilingGroup {
    const recalled = (this.shown.get(JSON.stringify([group.userId, group.threadId])) ?? []).map((content) => ({ content }));
    const messages = group.messages.flatMap((message) => {
      if (message.role !== "assistant") return [message];
      const content = stripEngramContext(message.content, { recalled });
      return content === "" ? [] : [{ ...message, content }];
    });
    return { ...group, messages };
  }

  /** The user and thread to file for, or undefined when the config names no user. */
  private filerOf(config: RunnableConfig): { userId: string; threadId: string } | undefined {
    const configurable = config?.configurable ?? {};
    if (configurable.user_id === undefined || configurable.user_id === null) return undefined;
    const threadId = typeof configurable.thread_id === "number" ? String(configurable.thread_id) : configurable.thread_id;
    const scope = validateScope({ userId: configurable.user_id, threadId });
    if (scope.threadId === undefined) {
      throw new EngramError("INVALID_SCOPE", "config.configurable.thread_id is required to file messages.");
    }
    return { userId: scope.userId, threadId: scope.threadId };
  }

  private open(): { db: Database.Database; log: FilingLog } {
    if (this.closed) throw new EngramError("CLOSED", "This EngramCheckpointer was closed.");
    if (!this.db || !this.log) {
      this.db = openDatabase(this.databasePath);
      this.log = new FilingLog(this.db);
      // Filings a previous process recorded but did not finish.
      if (this.log.size() > 0) this.scheduleDrain();
    }
    return { db: this.db, log: this.log };
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    // Errors stay with the recorded filings; flush() reports them.
    void this.exclusive(() => this.drain()).catch(() => undefined);
  }

  /** Files recorded filings, oldest first, until none is left or an outage stops it. */
  private async drain(): Promise<EngramError | undefined> {
    this.drainScheduled = false;
    if (this.closed) return undefined;
    const { log } = this.open();
    for (;;) {
      const pending = log.pending(FILINGS_PER_READ);
      if (pending.length === 0) return undefined;
      // One Memory.add per run of filings of the same thread and user: embedding in batches is
      // several times faster than one message at a time.
      for (const whole of groupFilings(pending, MESSAGES_PER_ADD)) {
        const group = this.withoutEngramContext(whole);
        const outcome: FilingOutcome =
          group.messages.length === 0 ? { filed: 0, skipped: [] } : await fileMessages(this.memory, group, this.importance);
        if (outcome.error) {
          log.fail(group.seqs, outcome.error.message);
          return outcome.error;
        }
        log.complete(group.seqs);
        this.filedSinceFlush += outcome.filed;
        for (const skip of outcome.skipped) {
          const entry = { threadId: group.threadId, userId: group.userId, error: skip.error, ...(skip.messageId ? { messageId: skip.messageId } : {}) };
          if (this.options.onFilingError) this.options.onFilingError(skip.error, entry);
          else this.skipped.push(entry);
        }
      }
    }
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/** A thread id as Memory's scope takes it (checked before anything is deleted). */
function checkThreadId(threadId: unknown): string {
  const scope = validateScope({ userId: "thread-check", threadId });
  if (scope.threadId === undefined) throw new EngramError("INVALID_SCOPE", "threadId is required.");
  return scope.threadId;
}
