/**
 * What the turns leaving the prompt leave in long-term memory, one rule for both ways they leave:
 * turn by turn as the window slides (`turn/consolidate.ts`) and the whole window when its session
 * ends (`end_session.ts`). An exchange important enough to be an episode is stored as one (a no-op
 * when `remember` stored it during its turn: ids are deterministic); the others are summarized
 * into one `summary` record that names them. A turn is then in long-term memory once, either as
 * its own words or inside a summary, never both: a summary that repeated the episodes would take
 * their places in the top k of a search and in the prompt (issue 15: "summaries compete with
 * episodes").
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseMessage } from "@langchain/core/messages";
import type { UsageHook } from "../core/token_usage.js";
import type { Memory } from "../memory/memory.js";
import type { ImportanceScorer } from "../scoring/importance/types.js";
import { summarize } from "./summarize.js";

/** The scope a window's memories are filed under. */
export interface WindowScope {
  userId: string;
  agentId?: string;
  threadId?: string;
}

export interface WindowRecordsOptions {
  /** Scores each exchange (without novelty: the window is judged on what it says). */
  scorer: ImportanceScorer;
  /**
   * Exchanges scored at or above this are stored as episodes; the rest go into the summary record.
   * undefined: every exchange goes into the summary record (a consolidation that knows no
   * importance edge, e.g. a `consolidate` node used alone).
   */
  importanceThreshold: number | undefined;
  /** Writes the summary. undefined: extractive, no model call. */
  summaryModel?: BaseChatModel;
  /** Token budget of the summary record. @default 400 (summarize's) */
  summaryMaxTokens?: number;
  /** Told the summary model's tokens. */
  onUsage?: UsageHook;
  /** The summary record's importance instead of the scorer's (the consolidate node without a scorer of its own). */
  summaryImportance?: number;
  /**
   * What of an exchange is stored: the graph takes out what a model echoed of its prompt (no
   * memory of memory). The summary record still names every message of the exchanges it covers.
   * @default the exchange as it is
   */
  clean?: (exchange: BaseMessage[]) => BaseMessage[];
  /**
   * When a message was said (ms since the epoch): an exchange's episode is stored at its first
   * message's time and the summary record at its latest covered message's, so their day and the
   * relative dates they speak of resolve against the turns, not against when they left.
   * @default undefined: everything at the time of the call
   */
  timeOf?: (message: BaseMessage) => number | undefined;
}

/** What a window left in long-term memory. */
export interface WindowRecords {
  /** Exchanges stored as episodes (already stored ones count: they are kept once). */
  episodes: number;
  /** Ids of the messages the summary record covers ([] when none was stored). */
  summarized: string[];
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

/** `user: ...\nassistant: ...`, as scorers read an exchange. */
export function exchangeLines(exchange: readonly BaseMessage[]): string {
  return exchange.map((m) => `${ROLES[m.getType()] ?? m.getType()}: ${m.text.trim()}`).join("\n");
}

/**
 * Stores what `messages` (turns leaving the prompt) leave in long-term memory: important exchanges
 * as episodes, the rest as one summary record naming the thread and the messages it covers.
 * Everything goes through `Memory.add`, so with the store down the writes wait in the outbox.
 */
export async function storeWindow(
  memory: Pick<Memory, "add">,
  scope: WindowScope,
  messages: readonly BaseMessage[],
  options: WindowRecordsOptions,
): Promise<WindowRecords> {
  const { scorer, importanceThreshold } = options;
  const clean = options.clean ?? ((exchange: BaseMessage[]) => exchange);
  const exchanges = exchangesOf(messages);
  const inExchange = new Set(exchanges.flat());
  // Tool calls and results belong to no exchange: they go into the summary (as they always did).
  const toSummarize = new Set(messages.filter((m) => !inExchange.has(m) && !["system", "developer"].includes(m.getType())));
  let episodes = 0;
  for (const original of exchanges) {
    const exchange = clean(original);
    if (exchange.length === 0) continue;
    if (importanceThreshold !== undefined) {
      const importance = clamp((await scorer.score({ text: exchangeLines(exchange) })).value);
      if (importance >= importanceThreshold) {
        const createdAt = firstTime(original, options.timeOf);
        await memory.add(exchange, { ...scope, kind: "episode", importance, oversize: "split", ...(createdAt !== undefined ? { createdAt } : {}) });
        episodes++;
        continue;
      }
    }
    for (const message of original) toSummarize.add(message);
  }
  const covered = messages.filter((m) => toSummarize.has(m));
  const rest = clean(covered);
  if (rest.length === 0) return { episodes, summarized: [] };
  const chunk = await summarize({
    previousSummary: "",
    evicted: rest,
    model: options.summaryModel,
    maxTokens: options.summaryMaxTokens,
    ...(options.onUsage ? { onUsage: options.onUsage } : {}),
  });
  if (chunk.trim() === "") return { episodes, summarized: [] };
  const summarized = covered.map((m) => m.id).filter((id): id is string => typeof id === "string");
  const importance = options.summaryImportance ?? clamp((await scorer.score({ text: exchangeLines(rest) })).value);
  const createdAt = firstTime([...covered].reverse(), options.timeOf);
  await memory.add(chunk, {
    ...scope,
    kind: "summary",
    importance,
    source: { ...(scope.threadId !== undefined ? { threadId: scope.threadId } : {}), messageIds: summarized },
    oversize: "split",
    ...(createdAt !== undefined ? { createdAt } : {}),
  });
  return { episodes, summarized };
}

/** The time of the first of `messages` that has one. */
function firstTime(messages: readonly BaseMessage[], timeOf: WindowRecordsOptions["timeOf"]): number | undefined {
  if (timeOf === undefined) return undefined;
  for (const message of messages) {
    const time = timeOf(message);
    if (time !== undefined) return time;
  }
  return undefined;
}

function clamp(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0.5;
}
