import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { EngramError } from "../../core/errors.js";
import type { WarningHandler } from "../../graph/types.js";
import type { Memory } from "../../memory/memory.js";
import type { StateBackend } from "../../state/types.js";
import type { CheckpointRetention } from "./retention.js";

/** Options for `new EngramCheckpointer(options)`. */
export interface EngramCheckpointerOptions {
  /** The long-term memory new human and AI messages are filed into. Not closed by the checkpointer. */
  memory: Memory;
  /**
   * The saver that stores the checkpoints: every `getTuple`, `list`, `put`, `putWrites` and
   * `deleteThread` goes to it unchanged (`MemorySaver`, `PostgresSaver`, any `BaseCheckpointSaver`).
   * A saver passed here is not closed by `close()`. `createPostgresSaver(url)` makes a `PostgresSaver`.
   * @default a `SqliteSaver` on `<memory data folder>/checkpoints.sqlite`, opened on first use
   */
  saver?: BaseCheckpointSaver;
  /**
   * SQLite file of the default `SqliteSaver`. Older versions kept the checkpointer's filing log
   * here too; it is now in `state`, and a log found here is moved there on first use.
   * @default "<memory data folder>/checkpoints.sqlite"
   */
  databasePath?: string;
  /**
   * The state that keeps the filing log (its `filings()` part): which messages were filed for
   * which user and thread (and so who a thread belongs to), and the filings not done yet (they
   * survive a crash there). Memory's state by default, so that `memory.deleteAll` erases a user's
   * rows of it, and with PostgreSQL state any replica files what another recorded and
   * `deleteThread` works from any of them. Not closed by the checkpointer.
   * @default Memory's state (`new Memory({ state })`: SQLite in the data folder, or PostgreSQL)
   */
  state?: StateBackend;
  /**
   * Checkpoint retention over `SqliteSaver` and `PostgresSaver`: keep the last N checkpoints of a
   * thread, expire idle threads (their memories stay), by `prune()` or a background sweep.
   * @default off: nothing is deleted but by `deleteThread`
   */
  retention?: CheckpointRetention;
  /** Where a failed background sweep is reported. @default console.warn */
  onWarning?: WarningHandler;
  /** Milliseconds since the epoch, for `retention.idleTtlMs`; inject one in tests. @default Date.now */
  clock?: () => number;
  /**
   * The state channel holding the chat messages.
   * @default "messages"
   */
  messagesChannel?: string;
  /**
   * Importance (0..1) given to every filed message.
   * @default 0.5
   */
  importance?: number;
  /**
   * Told when Memory refused a message for good (too large, no text...): that message is skipped,
   * the others of its checkpoint are filed. Outages are not reported here: those filings wait and
   * are retried (`flush()` throws while they cannot be done).
   * @default errors are kept and returned by the next `flush()` in `skipped` (the last 100)
   */
  onFilingError?: (error: EngramError, filing: { threadId: string; userId: string; messageId?: string }) => void;
}

/** What `flush()` did. */
export interface CheckpointerFlushResult {
  /** Messages handed to Memory by this flush (and by background filings since the last flush). */
  filed: number;
  /** Messages Memory refused for good since the last flush, with the reason: the last 100. */
  skipped: Array<{ threadId: string; userId: string; messageId?: string; error: EngramError }>;
  /** Refusals since the last flush left out of `skipped` (older than its last 100); absent when none. */
  skippedOmitted?: number;
  /** Filings still waiting (0 unless an outage stopped the flush). */
  pending: number;
}

/** Options of `recall`. */
export interface CheckpointerRecallOptions {
  /** How many memories to return. @default 5 */
  limit?: number;
  /**
   * Leave out memories filed from the thread in `config` (that thread is in the window already).
   * @default true
   */
  otherThreadsOnly?: boolean;
}

/** What `deleteThread` removed besides the checkpoints (kept for the last call, for reports). */
export interface DeletedThreadMemories {
  threadId: string;
  /** Memories deleted, per user who filed into the thread. */
  deleted: Record<string, number>;
  /** Filings of the thread that were still waiting and were dropped. */
  dropped: number;
}
