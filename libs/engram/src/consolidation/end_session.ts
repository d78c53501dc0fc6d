import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseMessage } from "@langchain/core/messages";
import type { Memory } from "../memory/memory.js";
import type { UsageHook } from "../core/token_usage.js";
import { validateTime } from "../core/validate.js";
import { HeuristicImportanceScorer } from "../scoring/importance/heuristic.js";
import type { ImportanceScorer } from "../scoring/importance/types.js";
import { summarize } from "./summarize.js";
import { exchangesOf, storeWindow } from "./window_records.js";

/** Importance at or above which an exchange of the ended window is stored as an episode (the graph's default). */
export const DEFAULT_END_SESSION_THRESHOLD = 0.1;

/** How a session's window is consolidated when the session ends. */
export interface EndSessionOptions {
  /** Scores each exchange of the window. @default new HeuristicImportanceScorer() (no model call) */
  scorer?: ImportanceScorer;
  /** Exchanges scored at or above this are stored as episodes (0..1). @default DEFAULT_END_SESSION_THRESHOLD (0.1) */
  importanceThreshold?: number;
  /** Writes the summary. @default undefined: extractive summary, no model call */
  summaryModel?: BaseChatModel;
  /** Token budget of the summaries. @default 400 */
  summaryMaxTokens?: number;
  /** Told the summary model's tokens (`memory.usage()`). @default undefined */
  onUsage?: UsageHook;
  /**
   * When each message was said: what the end stores of a turn carries the turn's time (its
   * `createdAt`, and the day its relative dates such as "yesterday" resolve against), not the
   * end's. A message without one is stored at the end's time.
   * @default undefined (everything at the end's time)
   */
  timeOf?: (message: BaseMessage) => Date | number | undefined;
}

/** What ending a session did. */
export interface EndSessionResult {
  /** Exchanges stored as episodes (an exchange stored before is kept once: ids are deterministic). */
  episodes: number;
  /** Messages the stored summary record covers (the window's exchanges not stored as episodes). */
  summarized: number;
  /** The running summary with the window folded in (`previousSummary` + the window). */
  summary: string;
  /** Ids of the window's messages (the graph removes them from its state). */
  messageIds: string[];
}

/** The scope a session's memories are filed under. */
export interface SessionScope {
  userId: string;
  agentId?: string;
  threadId?: string;
}

export { exchangesOf };

/**
 * Consolidates the window of a session that ended, so no turn is lost only because the session
 * ended before it left the window: the window's important exchanges are stored as `episode`s (as
 * the graph's `remember` does; one stored already is not stored again) and the others as one
 * `summary` record naming the thread and the message ids it covers (`storeWindow`, as `consolidate`
 * does for turns that leave the window); the whole window is folded into the running summary.
 * Everything goes through `Memory.add`, so with the store down the writes wait in the outbox.
 */
export async function consolidateSession(
  memory: Pick<Memory, "add">,
  scope: SessionScope,
  messages: readonly BaseMessage[],
  previousSummary: string,
  options: EndSessionOptions = {},
): Promise<EndSessionResult> {
  const scorer = options.scorer ?? new HeuristicImportanceScorer();
  const threshold = options.importanceThreshold ?? DEFAULT_END_SESSION_THRESHOLD;
  const conversation = exchangesOf(messages).flat();
  const messageIds = messages.map((m) => m.id).filter((id): id is string => typeof id === "string");
  if (conversation.length === 0) return { episodes: 0, summarized: 0, summary: previousSummary, messageIds };

  // Every time is checked before the first write: a bad one must not leave half a window stored.
  const times = new Map<BaseMessage, number>();
  for (const message of options.timeOf ? conversation : []) {
    const time = options.timeOf!(message);
    if (time !== undefined) times.set(message, validateTime(time, "timeOf(message)"));
  }
  const summarizeOptions = { model: options.summaryModel, maxTokens: options.summaryMaxTokens, ...(options.onUsage ? { onUsage: options.onUsage } : {}) };
  // The running summary first: it writes nothing, so when its model call fails the end fails
  // before anything is filed, and a retry files the window once. (Filed first, the summary record
  // of the failed attempt stayed, and the retry's record, worded otherwise, was a second copy.)
  const summary = await summarize({ previousSummary, evicted: conversation, ...summarizeOptions });
  const stored = await storeWindow(memory, scope, conversation, {
    scorer,
    importanceThreshold: threshold,
    summaryModel: options.summaryModel,
    summaryMaxTokens: options.summaryMaxTokens,
    ...(options.onUsage ? { onUsage: options.onUsage } : {}),
    ...(times.size > 0 ? { timeOf: (message: BaseMessage) => times.get(message) } : {}),
  });
  return { episodes: stored.episodes, summarized: stored.summarized.length, summary, messageIds };
}
