import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { DEFAULT_SUMMARY_MAX_TOKENS, summarize } from "../../consolidation/summarize.js";
import { deterministicId } from "../../core/ids.js";
import type { MemoryRecord } from "../../core/types.js";
import { ERASED_OWNER } from "../../state/erased_owner.js";
import type { StateBackend } from "../../state/types.js";
import { threadClaimKey, underFilingLock } from "../thread_claims.js";
import { exchangeText, textOf } from "../../turn/messages.js";
import type { ImportanceScorer } from "../../scoring/importance/types.js";
import { stripEngramContext } from "../../turn/engram_context.js";
import { countTokens } from "../../working/tokens.js";
import { selectWindow, type WindowOptions } from "../../working/window.js";
import type { ChatHistoryMemory } from "./options.js";
import { exchanges, identify, type IdentifiedMessage } from "./thread.js";

/** Everything filing needs, resolved once by the history. */
export interface FilingContext {
  memory: ChatHistoryMemory;
  userId: string;
  threadId: string;
  window: WindowOptions | undefined;
  scorer: ImportanceScorer;
  importanceThreshold: number;
  model: import("@langchain/core/language_models/chat_models").BaseChatModel | undefined;
  summaryMaxTokens: number | undefined;
}

/** Summaries read per page (a thread's older turns, a chunk each). */
const SUMMARY_PAGE = 1000;

/**
 * The thread's stored summaries, oldest first, and the ids of the messages they cover. The
 * summaries live in long-term memory (kind `summary`, `source.messageIds`), so every process that
 * shares the memory sees the same ones: nothing about the thread is kept only in one process.
 */
export async function storedSummaries(
  context: Pick<FilingContext, "memory" | "userId" | "threadId">,
): Promise<{ summaries: MemoryRecord[]; covered: Set<string>; cleared: Map<string, MemoryRecord> }> {
  // Every page: read up to 1000 summaries, a long thread's oldest fell out of `covered`, and the
  // turns they cover came back verbatim into the prompt (and were summarized again, one chunk per
  // filing, for ever).
  const records: MemoryRecord[] = [];
  for (let offset = 0; ; offset += SUMMARY_PAGE) {
    const page = await context.memory.getAll({ userId: context.userId, threadId: context.threadId, kind: "summary", limit: SUMMARY_PAGE, offset });
    records.push(...page);
    if (page.length < SUMMARY_PAGE) break;
  }
  const ofThread = records.filter((record) => (record.source.threadId ?? record.scope.threadId) === context.threadId);
  const summaries = ofThread
    .filter((record) => record.metadata[CLEARED] !== true)
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  const covered = new Set(summaries.flatMap((record) => record.source.messageIds ?? []));
  const cleared = new Map(ofThread.filter((record) => record.metadata[CLEARED] === true).map((record) => [record.id, record]));
  return { summaries, covered, cleared };
}

/** Summaries read for one running summary, in budgets: bounds the work of a read in a long thread. */
const FOLDED_BUDGETS = 8;

/**
 * The thread's summaries (oldest first) as the one running summary `getMessages()` shows, within
 * `maxTokens`: all of them while they fit; past that, folded as the graph's running summary is
 * (extractive `summarize`: the least important sentences give way first, old or new). Only the
 * newest summaries were shown before, so the first turns' facts ("my sister lives in Porto") left
 * the prompt after a few evictions of small talk, and the recipe's recall leaves the thread out
 * (`excludeThread`): the model could no longer know them.
 */
export async function runningSummary(summaries: readonly MemoryRecord[], maxTokens: number | undefined): Promise<string> {
  const budget = maxTokens ?? DEFAULT_SUMMARY_MAX_TOKENS;
  const read: string[] = [];
  let used = 0;
  for (let i = summaries.length - 1; i >= 0; i -= 1) {
    const cost = countTokens(summaries[i]!.content);
    if (read.length > 0 && used + cost > budget * FOLDED_BUDGETS) break;
    read.unshift(summaries[i]!.content);
    used += cost;
  }
  return read.length === 0 ? "" : summarize({ previousSummary: read.join("\n"), evicted: [], maxTokens: budget });
}

/**
 * Metadata of a summary of a conversation that `clear()` ended: it stays in long-term memory
 * (recall finds it, like the episodes filed from that conversation), and is no longer part of the
 * thread's history. In the record, so every process sharing the memory sees it, and erased with it.
 */
export const CLEARED = "chatHistoryCleared";

/**
 * `clear()`'s work, under the user's filing lock as a filing's is: the app's history emptied, the
 * thread's summaries retired, and a thread its user's erasure had closed opened again. Without the
 * lock, another process's filing that had read the conversation before the clear (its summary can
 * take a model call of seconds) landed its summary after the retiring, and the next conversation
 * on the thread began with a summary of the cleared one.
 */
export async function clearThread(context: Pick<FilingContext, "memory" | "userId" | "threadId">, clearHistory: () => Promise<void>): Promise<void> {
  await underFilingLock(context.memory, context.userId, async (state) => {
    await clearHistory();
    await retireSummaries(context);
    if (state) await reopenIfErased(state, context);
  });
}

/**
 * Takes the thread's summaries out of its history (`clear()`): the conversation after a clear
 * starts with no summary, and a new message at the position and with the text of a cleared one is
 * not taken for one a cleared summary covers.
 */
async function retireSummaries(context: Pick<FilingContext, "memory" | "userId" | "threadId">): Promise<void> {
  const { summaries } = await storedSummaries(context);
  for (const record of summaries) {
    await context.memory.update(record.id, { metadata: { ...record.metadata, [CLEARED]: true } }, { userId: context.userId });
  }
}

/**
 * Files a thread into long-term memory: each finished exchange scored and, when at or above the
 * threshold, stored as episodes (human and AI messages, ids from the thread, so filing again
 * stores nothing new); the turns that left the window and no summary covers yet are summarized
 * into one `summary` record naming their message ids. Returns the exchanges it looked at, so the
 * caller files only newer ones next time.
 *
 * `read` gives the thread's messages. It is called, and everything written, under the user's
 * filing lock (memory/delete_all_filings.ts), which `Memory.deleteAll` takes before it erases
 * anything, in every process on the state: a filing that read the conversation before an erasure
 * (its summary can take a model call of seconds) has written before the erasure, which then
 * removes it, and writes nothing after it.
 */
export async function fileThread(context: FilingContext, read: () => Promise<BaseMessage[]>, filedExchanges: FiledMark): Promise<FiledMark> {
  return underFilingLock(context.memory, context.userId, async (state) => {
    const messages = await read();
    // The thread of an erased user files nothing more: its turns from before the erasure are still
    // in the app's chat history (Engram never rewrites it), and filing them would bring the erased
    // memories back. `clear()` empties that history and frees the thread.
    if (state && (await state.filings().claim(claimKey(context), context.userId)).includes(ERASED_OWNER)) return filedExchanges;
    return fileMessages(context, messages, filedExchanges);
  });
}

/**
 * The in-memory default history (made by Engram when the app gives none) of a thread whose user
 * was erased: emptied, and the thread filing again. That history is Engram's own copy of the
 * conversation, which the erasure must reach: kept, the next run of the thread showed the model
 * everything the user had erased. An app's own history is never touched (`fileThread`).
 */
export async function emptyIfErased(context: Pick<FilingContext, "memory" | "userId" | "threadId">, empty: () => Promise<void>): Promise<boolean> {
  return underFilingLock(context.memory, context.userId, async (state) => {
    if (!state || !(await state.filings().claim(claimKey(context), context.userId)).includes(ERASED_OWNER)) return false;
    await empty();
    await state.filings().forgetThread(claimKey(context));
    return true;
  });
}

/**
 * After `clear()` emptied the app's history of the thread: a thread its user's erasure had closed
 * (`fileThread`) files again, the turns from before the erasure being gone.
 */
async function reopenIfErased(state: StateBackend, context: Pick<FilingContext, "userId" | "threadId">): Promise<void> {
  const key = claimKey(context);
  if ((await state.filings().claim(key, context.userId)).includes(ERASED_OWNER)) await state.filings().forgetThread(key);
}

/** The thread's claim in the filing log (FilingState.claim), which `Memory.deleteAll` leaves to `ERASED_OWNER`. */
function claimKey(context: Pick<FilingContext, "userId" | "threadId">): string {
  return threadClaimKey("chat-history", context.userId, context.threadId);
}

/**
 * How far this process has filed a thread: the exchanges it looked at, and the id of the last one's
 * first message. The history can start again under it (another process's `clear()`): when the
 * exchange at that place is no longer the same, filing starts from the beginning (what was filed
 * before is a replay), instead of skipping the new conversation's first exchanges.
 */
export interface FiledMark {
  count: number;
  last?: string;
}

async function fileMessages(context: FilingContext, all: readonly BaseMessage[], filedExchanges: FiledMark): Promise<FiledMark> {
  const { summaries, covered, cleared } = await storedSummaries(context);
  // What getMessages() showed the model of its own making: a model that echoes it does not get
  // it stored again (no memory of memory).
  const shown = { recalled: summaries, summary: await runningSummary(summaries, context.summaryMaxTokens) };
  const messages = identify(all, context.userId, context.threadId).map((item) => withoutEcho(item, shown));
  const done = exchanges(messages);
  const { count, last } = filedExchanges;
  const resume = count > 0 && done[count - 1]?.[0]?.id === last ? count : 0;
  for (const exchange of done.slice(resume)) await fileExchange(context, exchange);

  const { evicted } = selectWindow(all, context.window);
  const evictedSet = new Set(evicted);
  const uncovered = messages.filter((item, index) => evictedSet.has(all[index]!) && !covered.has(item.id) && item.message.getType() !== "system");
  if (uncovered.length > 0) await fileSummary(context, uncovered, cleared);
  const newest = done.at(-1)?.[0]?.id;
  return newest === undefined ? { count: 0 } : { count: done.length, last: newest };
}

/** An AI message without what Engram put into its prompt (the summary, recalled sections), same id. */
function withoutEcho(item: IdentifiedMessage, shown: { recalled: MemoryRecord[]; summary: string }): IdentifiedMessage {
  if (item.message.getType() !== "ai") return item;
  const text = textOf(item.message);
  const kept = stripEngramContext(text, shown);
  return kept === text ? item : { id: item.id, message: new AIMessage({ content: kept, ...(item.message.id ? { id: item.message.id } : {}) }) };
}

async function fileExchange(context: FilingContext, exchange: IdentifiedMessage[]): Promise<void> {
  const text = exchangeText(exchange.map((item) => item.message));
  const { value } = await context.scorer.score({ text });
  const importance = Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
  if (importance < context.importanceThreshold) return;
  const input = exchange.map(({ message, id }) => ({
    role: message.getType() === "human" ? "user" : "assistant",
    content: textOf(message),
    id,
  }));
  await context.memory.add(input, { userId: context.userId, threadId: context.threadId, kind: "episode", importance, oversize: "split" });
}

async function fileSummary(context: FilingContext, uncovered: IdentifiedMessage[], cleared: ReadonlyMap<string, MemoryRecord>): Promise<void> {
  const evicted = uncovered.map((item) => item.message);
  const chunk = await summarize({ previousSummary: "", evicted, model: context.model, maxTokens: context.summaryMaxTokens });
  if (chunk.trim() === "") return;
  const messageIds = uncovered.map((item) => item.id);
  // From the messages it covers: two processes summarizing the same turns write one record.
  const id = deterministicId("engram-chat-summary", context.userId, context.threadId, ...messageIds);
  const retired = cleared.get(id);
  if (retired !== undefined) {
    // The same turns again after a clear() (same places, same words, ids from both): the add would
    // be a replay of the retired summary, which stayed out of the thread's history, and the turns
    // it covers came back verbatim on every later read. It is this conversation's summary again.
    const { [CLEARED]: _retired, ...metadata } = retired.metadata;
    await context.memory.update(id, { content: chunk, metadata }, { userId: context.userId });
    return;
  }
  const { value } = await context.scorer.score({ text: exchangeText(evicted) });
  await context.memory.add(chunk, {
    userId: context.userId,
    threadId: context.threadId,
    kind: "summary",
    importance: Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0.5,
    id,
    source: { threadId: context.threadId, messageIds },
  });
}
