import type { OptionNames } from "../../core/option_names.js";
import type { BaseChatMessageHistory } from "@langchain/core/chat_history";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { WarningHandler } from "../../turn/types.js";
import type { Memory } from "../../memory/memory.js";
import type { ImportanceScorer } from "../../scoring/importance/types.js";
import type { WindowOptions } from "../../working/window.js";

/** What the chat history needs of a `Memory` (a `Memory`, or an object with these methods). */
export type ChatHistoryMemory = Pick<Memory, "add" | "getAll" | "update">;

/** Options of `new EngramChatMessageHistory(options)`. Only `memory` and `userId` are required. */
export interface EngramChatMessageHistoryOptions {
  /** Long-term memory: where messages are filed and summaries kept. */
  memory: ChatHistoryMemory;
  /** Whose conversation this is. Every read and write is scoped to this user. */
  userId: string;
  /**
   * The conversation (`RunnableWithMessageHistory`'s session id). Its messages are filed under it,
   * and `EngramRetriever({ excludeThread: true })` leaves it out of recall.
   * @default a new random id: each instance is a conversation of its own
   */
  threadId?: string;
  /**
   * Where the verbatim messages are kept: any LangChain chat history (PostgreSQL, Redis, a file...).
   * Engram reads and appends to it and never rewrites it.
   * @default new InMemoryChatMessageHistory()
   */
  history?: BaseChatMessageHistory;
  /** The turns `getMessages()` returns verbatim; older turns come back as a summary. @default { maxTurns: 10 } */
  window?: WindowOptions;
  /** Importance of each exchange. @default new HeuristicImportanceScorer() (no model call) */
  scorer?: ImportanceScorer;
  /**
   * Exchanges scored at or above this (0..1) are stored as episodes; below it an exchange reaches
   * long-term memory only through the summary written when it leaves the window.
   * @default DEFAULT_IMPORTANCE_THRESHOLD (0.1)
   */
  importanceThreshold?: number;
  /** Writes the summaries (was `model`). @default undefined (extractive summaries, no model call) */
  summaryModel?: BaseChatModel;
  /** Token budget of each stored summary and of the summary `getMessages()` returns. @default 400 */
  summaryMaxTokens?: number;
  /** Where a failed background filing is reported (the messages stay in `history`). @default console.warn */
  onWarning?: WarningHandler;
}

/** Every name of EngramChatMessageHistoryOptions. */
export const CHAT_HISTORY_OPTIONS: OptionNames<EngramChatMessageHistoryOptions> = {
  memory: true,
  userId: true,
  threadId: true,
  history: true,
  window: true,
  scorer: true,
  importanceThreshold: true,
  summaryModel: true,
  summaryMaxTokens: true,
  onWarning: true,
};
