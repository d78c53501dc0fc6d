import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseMessage } from "@langchain/core/messages";
import type { Memory } from "../memory/memory.js";
import type { UsageHook } from "../core/token_usage.js";
import { HeuristicImportanceScorer } from "../scoring/importance/heuristic.js";
import type { ImportanceScorer } from "../scoring/importance/types.js";
import { summarize } from "./summarize.js";

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
}

/** What ending a session did. */
export interface EndSessionResult {
  /** Exchanges stored as episodes (an exchange stored before is kept once: ids are deterministic). */
  episodes: number;
  /** Messages the stored summary record covers. */
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

/**
 * The window split into exchanges: each human message with the AI replies after it that carry
 * text. Tool steps and system messages are plumbing, not conversation.
 */
export function exchangesOf(messages: readonly BaseMessage[]): BaseMessage[][] {
  const exchanges: BaseMessage[][] = [];
  for (const message of messages) {
    const type = message.getType();
    if (message.text.trim() === "") continue;
    if (type === "human") exchanges.push([message]);
    else if (type === "ai") {
      if (exchanges.length === 0) exchanges.push([]);
      exchanges[exchanges.length - 1]!.push(message);
    }
  }
  return exchanges.filter((exchange) => exchange.length > 0);
}

const ROLES: Record<string, string> = { human: "user", ai: "assistant" };

function exchangeText(exchange: readonly BaseMessage[]): string {
  return exchange.map((m) => `${ROLES[m.getType()] ?? m.getType()}: ${m.text.trim()}`).join("\n");
}

/**
 * Consolidates the window of a session that ended, so no turn is lost only because the session
 * ended before it left the window: the window's important exchanges are stored as `episode`s (as
 * the graph's `remember` does; one stored already is not stored again) and the whole window as
 * one `summary` record naming the thread and the message ids it covers (as `consolidate` does for
 * turns that leave the window). Everything goes through `Memory.add`, so with the store down the
 * writes wait in the outbox.
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
  const exchanges = exchangesOf(messages);
  const conversation = exchanges.flat();
  const messageIds = messages.map((m) => m.id).filter((id): id is string => typeof id === "string");
  if (conversation.length === 0) return { episodes: 0, summarized: 0, summary: previousSummary, messageIds };

  let episodes = 0;
  for (const exchange of exchanges) {
    const importance = clamp((await scorer.score({ text: exchangeText(exchange) })).value);
    if (importance < threshold) continue;
    await memory.add(exchange, { ...scope, kind: "episode", importance, oversize: "split" });
    episodes++;
  }

  const summarizeOptions = { model: options.summaryModel, maxTokens: options.summaryMaxTokens, ...(options.onUsage ? { onUsage: options.onUsage } : {}) };
  // The stored record covers the window alone (records cover disjoint turns, as consolidate's do).
  const chunk = await summarize({ previousSummary: "", evicted: conversation, ...summarizeOptions });
  const covered = conversation.map((m) => m.id).filter((id): id is string => typeof id === "string");
  if (chunk.trim() !== "") {
    const importance = clamp((await scorer.score({ text: exchangeText(conversation) })).value);
    await memory.add(chunk, {
      ...scope,
      kind: "summary",
      importance,
      source: { ...(scope.threadId !== undefined ? { threadId: scope.threadId } : {}), messageIds: covered },
      oversize: "split",
    });
  }
  const summary = previousSummary === "" && chunk.trim() !== "" ? chunk : await summarize({ previousSummary, evicted: conversation, ...summarizeOptions });
  return { episodes, summarized: chunk.trim() === "" ? 0 : conversation.length, summary, messageIds };
}

function clamp(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0.5;
}
