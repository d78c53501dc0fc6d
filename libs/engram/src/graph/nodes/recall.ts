import type { RunnableConfig } from "@langchain/core/runnables";
import type { MemoryKind } from "../../core/types.js";
import { checkMemory, checkRecallKinds, checkRecallLimit, checkWarningHandler, DEFAULT_MAX_QUERY_CHARS, positiveInteger } from "../../turn/options.js";
import { recallFor } from "../../turn/recall.js";
import { scopeFromRun } from "../../turn/scope.js";
import { checkThreadOwner, ownerUpdate, requireChannels } from "../channels.js";
import type { MemoryStateUpdate, StateWith } from "../state.js";
import type { GraphMemory, WarningHandler } from "../types.js";

export { DEFAULT_RECALL_LIMIT } from "../../turn/options.js";

export interface RecallNodeOptions {
  memory: Pick<GraphMemory, "search" | "getAll">;
  /** How many long-term memories reach the prompt (1 to 100). @default 5 */
  limit?: number;
  /** Kinds recalled by meaning (procedures are always read in full, not searched). @default ["episode", "fact", "summary"] */
  kinds?: MemoryKind[];
  /** Longest query sent to recall, in characters; a longer message is cut. @default 2000 */
  maxQueryChars?: number;
  /** Where a degraded recall is reported. @default console.warn */
  onWarning?: WarningHandler;
}

/**
 * The `recall` node, a thin translation of the turn core's `recallFor`: the latest human message
 * becomes a query over the user's long-term memory (every thread of the run's user), and the
 * user's procedure records are read for the system prompt. When the store is down the turn goes
 * on with the window and the summary only: a warning, never an error. Options are checked here.
 */
export function createRecallNode(options: RecallNodeOptions) {
  const resolved = {
    memory: checkMemory(options?.memory, "createRecallNode", ["search", "getAll"]),
    recallLimit: checkRecallLimit(options.limit, "limit"),
    recallKinds: checkRecallKinds(options.kinds),
    maxQueryChars: positiveInteger(options.maxQueryChars ?? DEFAULT_MAX_QUERY_CHARS, "maxQueryChars", options.maxQueryChars),
    warn: checkWarningHandler(options.onWarning),
  };

  return async function recall(state: StateWith<"messages" | "recalled" | "procedures">, config?: RunnableConfig): Promise<MemoryStateUpdate> {
    // Its writes would be dropped without a word in a state that has no channel for them.
    requireChannels(state, "recall", ["messages", "recalled", "procedures"]);
    // Before any read or write: a run without a user must fail, not fall back to a shared scope.
    const scope = scopeFromRun(config, "The memory graph");
    // Before the model sees the thread's window and summary, and before anything is stored.
    checkThreadOwner(state, scope.userId, "The memory graph");
    const recollection = await recallFor(resolved, state.messages, { userId: scope.userId });
    const owner = ownerUpdate(state, scope.userId);
    // The procedures of the last successful read stay in the state and keep reaching the prompt.
    return recollection.degraded ? { recalled: [], ...owner } : { recalled: recollection.recalled, procedures: recollection.procedures, ...owner };
  };
}
