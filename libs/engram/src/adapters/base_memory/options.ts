import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { ImportanceScorer } from "../../scoring/importance/types.js";
import { refuseUnknownOptions, type OptionNames } from "../../core/option_names.js";
import { renamedOption } from "../../turn/renamed.js";
import type { TurnOptions } from "../../turn/options.js";
import type { TurnMemory as GraphMemory, WarningHandler } from "../../turn/types.js";
import type { WindowOptions } from "../../working/window.js";

/** Options of `new EngramMemory(options)`. Only `memory` and `userId` are required. */
export interface EngramMemoryOptions {
  /** Long-term memory (a `Memory`). */
  memory: GraphMemory;
  /** Whose memory this is. Every read and write is scoped to this user. */
  userId: string;
  /**
   * The conversation. Its window and summary are kept in process and shared by every
   * `EngramMemory` on the same `Memory` with the same user and thread, so a chain rebuilt per
   * request keeps its window; long-term memory is shared by all threads of the user.
   * @default a new random id: each instance is a session of its own
   */
  threadId?: string;
  /**
   * Return the history as chat messages (for a `MessagesPlaceholder`) instead of one string.
   * @default false
   */
  returnMessages?: boolean;
  /**
   * The chain input holding the user's message.
   * @default the only input (an error names the keys when there are several)
   */
  inputKey?: string;
  /**
   * The chain output holding the reply.
   * @default the only output (an error names the keys when there are several)
   */
  outputKey?: string;
  /** Variable of the window (and, with `contextInHistory`, the context before it). @default "history" */
  memoryKey?: string;
  /** Variable of the running summary (a string, "" until turns leave the window). @default "summary" */
  summaryKey?: string;
  /**
   * Variable of what long-term memory gives this input: the user's core blocks and learned
   * instructions, then the recalled memories, marked as data and not instructions ("" for none).
   * @default "recalled"
   */
  recalledKey?: string;
  /**
   * Also start the `memoryKey` variable with the core blocks, the summary and the recalled
   * memories (one system message, or a `System:` line in a string), so a prompt that only has
   * `{history}`, like `ConversationChain`'s default, gets them. Set it to false when your prompt
   * places `{summary}` and `{recalled}` itself.
   * @default true
   */
  contextInHistory?: boolean;
  /** Prefix of human lines in the string history. @default "Human" */
  humanPrefix?: string;
  /** Prefix of AI lines in the string history. @default "AI" */
  aiPrefix?: string;
  /** The window of turns kept verbatim; older turns are folded into the summary. @default { maxTurns: 10 } */
  window?: WindowOptions;
  /** Importance of each turn. @default new HeuristicImportanceScorer() (no model call) */
  scorer?: ImportanceScorer;
  /**
   * Turns scored at or above this are stored as episodes; below it a turn stays in the window and
   * reaches long-term memory only through the summary written when it leaves the window.
   * @default DEFAULT_IMPORTANCE_THRESHOLD (0.1)
   */
  importanceThreshold?: number;
  /** Long-term memories recalled for each input. @default 5 */
  recallLimit?: number;
  /** Writes the summaries (was `model`). @default undefined (extractive summaries, no model call) */
  summaryModel?: BaseChatModel;
  /** Token budget of the running summary. @default 400 */
  summaryMaxTokens?: number;
  /** Run forgetting for the user every this many turns of a thread; 0 turns it off. @default 20 */
  forgetEvery?: number;
  /** Where a degraded recall (the store down) is reported. @default console.warn */
  onWarning?: WarningHandler;
}

/** Every name of EngramMemoryOptions. */
const ENGRAM_MEMORY_OPTIONS: OptionNames<EngramMemoryOptions> = {
  memory: true,
  userId: true,
  threadId: true,
  returnMessages: true,
  inputKey: true,
  outputKey: true,
  memoryKey: true,
  summaryKey: true,
  recalledKey: true,
  contextInHistory: true,
  humanPrefix: true,
  aiPrefix: true,
  window: true,
  scorer: true,
  importanceThreshold: true,
  recallLimit: true,
  summaryModel: true,
  summaryMaxTokens: true,
  forgetEvery: true,
  onWarning: true,
};

/** The turn core's options from `EngramMemory`'s (the rest are the door's own). */
export function turnOptionsOf(options: EngramMemoryOptions): TurnOptions {
  renamedOption(options, "model", "summaryModel", "EngramMemory");
  refuseUnknownOptions(options, "EngramMemory", ENGRAM_MEMORY_OPTIONS, '{ memory, userId: "alice" }');
  const { memory, scorer, importanceThreshold, recallLimit, window, summaryModel, summaryMaxTokens, forgetEvery, onWarning } = options;
  return { memory, scorer, importanceThreshold, recallLimit, window, summaryModel, summaryMaxTokens, forgetEvery, onWarning };
}
