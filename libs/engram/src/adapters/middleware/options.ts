import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { ImportanceScorer } from "../../scoring/importance/types.js";
import type { TurnOptions } from "../../turn/options.js";
import { refuseUnknownOptions, type OptionNames } from "../../core/option_names.js";
import { renamedOption } from "../../turn/renamed.js";
import type { TurnMemory as GraphMemory, WarningHandler } from "../../turn/types.js";
import type { WindowOptions } from "../../working/window.js";

/** Options of `engramMiddleware(options)`. Only `memory` is required. */
export interface EngramMiddlewareOptions {
  /**
   * Long-term memory (a `Memory`). The user of each run is `config.configurable.user_id`, or
   * `context.userId` (the middleware's context schema); naming two different users is an error.
   */
  memory: GraphMemory;
  /** Importance of each exchange. @default new HeuristicImportanceScorer() (no model call) */
  scorer?: ImportanceScorer;
  /**
   * Exchanges scored at or above this are stored as episodes; below it an exchange stays in the
   * thread and reaches long-term memory only through the summary written when it leaves the window.
   * @default DEFAULT_IMPORTANCE_THRESHOLD (0.1)
   */
  importanceThreshold?: number;
  /** Long-term memories recalled into each model call. @default 5 */
  recallLimit?: number;
  /**
   * The turns kept in the thread. At the end of each run the older turns are folded into the
   * running summary (the `engramSummary` state channel) and removed from the thread's messages.
   * @default { maxTurns: 10 }
   */
  window?: WindowOptions;
  /** Writes the summaries (was `model`). @default undefined (extractive summaries, no model call) */
  summaryModel?: BaseChatModel;
  /** Token budget of the running summary. @default 400 */
  summaryMaxTokens?: number;
  /** Run forgetting for the user every this many runs of a thread; 0 turns it off. @default 20 */
  forgetEvery?: number;
  /** Where a degraded recall (the store down) is reported. @default console.warn */
  onWarning?: WarningHandler;
}

/** Every name of EngramMiddlewareOptions. */
const MIDDLEWARE_OPTIONS: OptionNames<EngramMiddlewareOptions> = {
  memory: true,
  scorer: true,
  importanceThreshold: true,
  recallLimit: true,
  window: true,
  summaryModel: true,
  summaryMaxTokens: true,
  forgetEvery: true,
  onWarning: true,
};

/** The turn core's options from the middleware's. */
export function turnOptionsOf(options: EngramMiddlewareOptions): TurnOptions {
  renamedOption(options, "model", "summaryModel", "engramMiddleware");
  refuseUnknownOptions(options, "engramMiddleware", MIDDLEWARE_OPTIONS, "{ memory, recallLimit: 5 }");
  const { memory, scorer, importanceThreshold, recallLimit, window, summaryModel, summaryMaxTokens, forgetEvery, onWarning } = options;
  return { memory, scorer, importanceThreshold, recallLimit, window, summaryModel, summaryMaxTokens, forgetEvery, onWarning };
}
