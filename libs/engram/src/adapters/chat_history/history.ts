import { randomUUID } from "node:crypto";
import { BaseListChatMessageHistory, InMemoryChatMessageHistory, type BaseChatMessageHistory } from "@langchain/core/chat_history";
import { SystemMessage, type BaseMessage } from "@langchain/core/messages";
import { EngramError } from "../../core/errors.js";
import { validateScope } from "../../core/scope.js";
import { checkImportanceThreshold, checkModel, checkScorer, checkWarningHandler, checkWindow } from "../../turn/options.js";
import { renamedOption } from "../../turn/renamed.js";
import type { WarningHandler } from "../../turn/types.js";
import { selectWindow } from "../../working/window.js";
import { SUMMARY_HEADING, shownSummary } from "../../turn/engram_context.js";
import { clearThread, emptyIfErased, fileThread, runningSummary, storedSummaries, type FiledMark, type FilingContext } from "./filer.js";
import { CHAT_HISTORY_OPTIONS, type EngramChatMessageHistoryOptions } from "./options.js";
import { refuseUnknownOptions } from "../../core/option_names.js";
import { identify } from "./thread.js";
import { describeValue } from "../../core/describe.js";

/** How far filing has got in one thread, shared by the histories of one memory in this process. */
interface FilingState {
  /** Exchanges already filed (the next filing starts after them, unless the history started again). */
  filed: FiledMark;
  /** The filing in progress or last finished: filings of a thread run one after another. */
  tail: Promise<void>;
  /** The thread's messages when no chat history is given (made on first use). */
  inMemory?: InMemoryChatMessageHistory;
}

/** Keyed by the memory object weakly, then by [user, thread]: a history rebuilt per request finds it. */
const filings = new WeakMap<object, Map<string, FilingState>>();

/**
 * Threads whose state is kept per memory in this process; past it the least recently used is
 * dropped (a re-filing stores nothing twice; an in-memory default history is lost: give a chat
 * history of your own for long-lived threads).
 */
const MAX_THREADS = 10_000;

const DEFAULT_SUMMARY_TOKENS = 400;


/**
 * A LangChain chat history with long-term memory, for `RunnableWithMessageHistory` and anything
 * else that takes a `BaseListChatMessageHistory`.
 *
 * - The verbatim messages go to the chat history you give it (in memory by default; PostgreSQL,
 *   Redis, a file...), appended as they come; Engram never rewrites it.
 * - After each append, off the caller's path, the thread is filed into long-term memory as the
 *   other doors do: each finished exchange is scored and stored as episodes when important, and
 *   the turns that left the window are summarized into a `summary` record.
 * - `getMessages()` returns the summary of the older turns (one system message) and the window of
 *   recent turns verbatim.
 *
 * Recall for the current input is the retriever's job: `new EngramRetriever({ memory, userId,
 * excludeThread: true })` recalls from the user's other conversations and leaves this one out,
 * whose turns are already in the history (docs/chat-history.md).
 */
export class EngramChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace = ["engram", "stores", "message"];

  static override lc_name(): string {
    return "EngramChatMessageHistory";
  }

  readonly userId: string;

  readonly threadId: string;

  /** The chat history holding the verbatim messages. */
  readonly history: BaseChatMessageHistory;

  private readonly context: FilingContext;

  private readonly warn: WarningHandler;

  /** True when `history` is the in-memory default, Engram's own copy of the thread (see `fresh`). */
  private readonly ownsHistory: boolean;

  constructor(options: EngramChatMessageHistoryOptions) {
    super();
    if (options === null || typeof options !== "object") {
      throw new EngramError("INVALID_OPTIONS", "EngramChatMessageHistory needs options: new EngramChatMessageHistory({ memory, userId }).");
    }
    const { memory } = options;
    if (memory === null || typeof memory !== "object" || typeof memory.add !== "function" || typeof memory.getAll !== "function") {
      throw new EngramError("INVALID_OPTIONS", "memory must be an Engram Memory, e.g. new Memory().");
    }
    if (options.userId === undefined || options.userId === null || options.userId === "") {
      throw new EngramError(
        "INVALID_USER_ID",
        'EngramChatMessageHistory needs the user: new EngramChatMessageHistory({ memory, userId: "alice", threadId: sessionId }).',
      );
    }
    // The user comes from the application, once, here: no message can switch it.
    const scope = validateScope({ userId: options.userId, threadId: options.threadId ?? randomUUID() });
    this.userId = scope.userId;
    this.threadId = scope.threadId!;
    this.ownsHistory = options.history === undefined;
    this.history = options.history ?? this.defaultHistory(options.memory);
    if (typeof this.history?.getMessages !== "function" || typeof this.history.addMessages !== "function") {
      throw new EngramError("INVALID_OPTIONS", "history must be a LangChain chat history (getMessages, addMessages).");
    }
    // The turn core's checks: the same bad value gets the same error here as at the other doors.
    renamedOption(options, "model", "summaryModel", "EngramChatMessageHistory");
    refuseUnknownOptions(options, "EngramChatMessageHistory", CHAT_HISTORY_OPTIONS, '{ memory, userId: "alice" }');
    const importanceThreshold = checkImportanceThreshold(options.importanceThreshold);
    const window = checkWindow(options.window);
    const summaryMaxTokens = options.summaryMaxTokens ?? DEFAULT_SUMMARY_TOKENS;
    if (!Number.isInteger(summaryMaxTokens) || summaryMaxTokens < 1) {
      throw new EngramError("INVALID_OPTIONS", `summaryMaxTokens must be a positive integer, got ${describeValue(options.summaryMaxTokens)}.`);
    }
    this.context = {
      memory,
      userId: this.userId,
      threadId: this.threadId,
      window,
      scorer: checkScorer(options.scorer),
      importanceThreshold,
      model: checkModel(options.summaryModel, "summaryModel"),
      summaryMaxTokens,
    };
    this.warn = checkWarningHandler(options.onWarning);
  }

  /**
   * The summary of the turns that left the window (one system message, when there is one) and
   * the window verbatim. Turns that left the window but no stored summary covers yet (their
   * filing is still running, or failed) come back verbatim: nothing drops out of the prompt.
   */
  async getMessages(): Promise<BaseMessage[]> {
    // A filing in progress changes which turns the summary covers: wait for it, so the two reads
    // of one RunnableWithMessageHistory run (before and after the model) see the same history.
    await this.filing().tail;
    await this.fresh();
    const all = await this.history.getMessages();
    const { evicted } = selectWindow(all, this.context.window);
    if (evicted.length === 0) return all;
    const { summaries, covered } = await storedSummaries(this.context);
    const evictedSet = new Set(evicted);
    const shown = identify(all, this.userId, this.threadId)
      .filter((item) => !(evictedSet.has(item.message) && covered.has(item.id)))
      .map((item) => item.message);
    const summary = await runningSummary(summaries, this.context.summaryMaxTokens);
    // Shown as the prompt's summary section is: a model's blank line or Engram's tag in it must not
    // read as a section of the system's own.
    const text = shownSummary(summary);
    return text === "" ? shown : [new SystemMessage(`${SUMMARY_HEADING}\n${text}`), ...shown];
  }

  /** Appends to the chat history, then files the thread into long-term memory off this call. */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    await this.fresh();
    await this.history.addMessages(messages);
    this.scheduleFiling();
  }

  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  /**
   * Empties the chat history of this thread: the next conversation on it starts with no summary.
   * Long-term memory keeps what was filed (episodes, and the summaries, now marked `CLEARED` and
   * left out of this thread's history). A thread its user's erasure closed to filing files again.
   */
  override async clear(): Promise<void> {
    await this.filing().tail;
    await clearThread(this.context, () => this.history.clear());
    this.filing().filed = { count: 0 };
  }

  /** Waits until everything appended so far is filed (for tests, shutdown, or before a read elsewhere). */
  async flush(): Promise<void> {
    await this.filing().tail;
  }

  /**
   * The in-memory default history of a user erased since (in any process) starts over empty: it
   * is Engram's copy of the conversation, which the erasure reaches (filer.ts `emptyIfErased`).
   */
  private async fresh(): Promise<void> {
    if (!this.ownsHistory) return;
    if (await emptyIfErased(this.context, () => this.history.clear())) this.filing().filed = { count: 0 };
  }

  private scheduleFiling(): void {
    const state = this.filing();
    // setImmediate: the caller's turn finishes first; the filing is chained after the last one,
    // and never rejects (a failure is reported; the messages are safe in the chat history, and
    // the next filing tries again from the same place).
    state.tail = state.tail
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(async () => {
        state.filed = await fileThread(this.context, () => this.history.getMessages(), state.filed);
      })
      .catch((error: unknown) => {
        try {
          this.warn(`Filing the conversation into long-term memory failed (${(error as Error)?.message ?? error}); it is retried after the next message.`, error);
        } catch {
          // A handler that throws (a closed log stream) must not reject the chain: every later
          // filing of the thread and every flush() would fail with it, or the rejection go unhandled.
        }
      });
  }

  /**
   * The in-memory default, one per memory, user and thread in this process: RunnableWithMessageHistory
   * builds a new history for every run, and each must find the thread's messages.
   */
  private defaultHistory(memory: object): InMemoryChatMessageHistory {
    const state = stateOf(memory, this.userId, this.threadId);
    state.inMemory ??= new InMemoryChatMessageHistory();
    return state.inMemory;
  }

  private filing(): FilingState {
    return stateOf(this.context.memory, this.userId, this.threadId);
  }
}

function stateOf(owner: object, userId: string, threadId: string): FilingState {
  let threads = filings.get(owner);
  if (!threads) {
    threads = new Map();
    filings.set(owner, threads);
  }
  // The user is part of the key: two users given the same thread id never share a state.
  const key = JSON.stringify([userId, threadId]);
  let state = threads.get(key);
  // Map order is insertion order: re-inserting marks the thread as most recently used.
  if (state) threads.delete(key);
  else state = { filed: { count: 0 }, tail: Promise.resolve() };
  threads.set(key, state);
  if (threads.size > MAX_THREADS) threads.delete(threads.keys().next().value!);
  return state;
}
