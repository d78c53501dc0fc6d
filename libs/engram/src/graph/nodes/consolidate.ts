import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { RemoveMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { ImportanceScorer } from "../../scoring/importance/types.js";
import type { WindowOptions } from "../../working/window.js";
import { consolidateTurn } from "../../turn/consolidate.js";
import { repeatedSystemIds } from "../../turn/messages.js";
import {
  checkForgetEvery,
  checkImportanceThreshold,
  checkMemory,
  checkModel,
  checkScorer,
  checkWarningHandler,
  checkWindow,
  positiveInteger,
} from "../../turn/options.js";
import { scopeFromRun } from "../../turn/scope.js";
import { checkThreadOwner, ownerUpdate, requireChannels } from "../channels.js";
import type { MemoryStateUpdate, StateWith } from "../state.js";
import type { GraphMemory, WarningHandler } from "../types.js";

export { DEFAULT_FORGET_EVERY } from "../../turn/options.js";

export interface ConsolidateNodeOptions {
  memory: Pick<GraphMemory, "add" | "forget" | "scheduleForget" | "usageHook">;
  /** The window kept in the state. @default { maxTurns: 10 } (selectWindow's defaults) */
  window?: WindowOptions;
  /**
   * Writes the summaries. @default undefined: extractive summaries (the most important sentences
   * under the budget), no model call.
   */
  summaryModel?: BaseChatModel;
  /** Token budget of the running summary and of each stored summary. @default 400 */
  summaryMaxTokens?: number;
  /** Scores each stored summary; without one it gets importance 0.5. */
  scorer?: ImportanceScorer;
  /**
   * The graph's importance edge: evicted exchanges scored at or above it (by `scorer`, or the
   * heuristic) are kept as episodes, not repeated in the summary record. @default undefined:
   * every evicted turn goes into the summary record
   */
  importanceThreshold?: number;
  /** Run `memory.forget` for the user every this many turns of a thread; 0 turns it off. @default 20 */
  forgetEvery?: number;
  /** Where a failed store write or forgetting pass is reported. @default console.warn */
  onWarning?: WarningHandler;
}

/**
 * The `consolidate` node, a thin translation of the turn core's `consolidateTurn`: the turns that
 * leave the window are folded into the running summary, removed from the state
 * (`RemoveMessage`), and stored as a `summary` record naming the thread and the message ids it
 * covers; every `forgetEvery` turns forgetting starts for the user, off the turn.
 */
export function createConsolidateNode(options: ConsolidateNodeOptions) {
  const resolved = {
    memory: checkMemory(options?.memory, "createConsolidateNode", ["add", "forget"]),
    window: checkWindow(options.window),
    summaryModel: checkModel(options.summaryModel, "summaryModel"),
    summaryMaxTokens: options.summaryMaxTokens === undefined ? undefined : positiveInteger(options.summaryMaxTokens, "summaryMaxTokens"),
    scorer: checkScorer(options.scorer),
    importanceThreshold: options.importanceThreshold === undefined ? undefined : checkImportanceThreshold(options.importanceThreshold),
    forgetEvery: checkForgetEvery(options.forgetEvery),
    warn: checkWarningHandler(options.onWarning),
  };
  const scoreSummary = options.scorer !== undefined;

  return async function consolidate(
    state: StateWith<"messages" | "summary" | "turnsSinceForget"> & Partial<StateWith<"procedures" | "recalled" | "owner">>,
    config?: RunnableConfig,
  ): Promise<MemoryStateUpdate> {
    requireChannels(state, "consolidate", ["messages", "summary", "turnsSinceForget"]);
    const scope = scopeFromRun(config, "The memory graph");
    // A run resumed here by another user must not fold the owner's turns into their memory; in a
    // graph without a recall node (consolidation alone) the first run's user claims the thread here.
    checkThreadOwner(state, scope.userId, "The memory graph");
    const done = await consolidateTurn(resolved, state, scope, scoreSummary);
    const update: MemoryStateUpdate = { turnsSinceForget: done.turnsSinceForget, ...ownerUpdate(state, scope.userId) };
    if (done.summary !== undefined) update.summary = done.summary;
    // System messages never leave the window: a copy sent with every request would pile up in
    // the thread for ever (the model is given each text once). Each text is kept once, the first.
    const removed = [...(done.summary !== undefined ? done.evictedIds : []), ...repeatedSystemIds(state.messages)];
    if (removed.length > 0) update.messages = removed.map((id) => new RemoveMessage({ id }));
    return update;
  };
}
