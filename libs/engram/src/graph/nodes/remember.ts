import type { RunnableConfig } from "@langchain/core/runnables";
import { checkMemory, checkWarningHandler } from "../../turn/options.js";
import { rememberExchange } from "../../turn/finish.js";
import { scopeFromRun } from "../../turn/scope.js";
import { checkRunOwner, requireChannels } from "../channels.js";
import type { MemoryStateUpdate, StateWith } from "../state.js";
import type { GraphMemory, WarningHandler } from "../types.js";

export interface RememberNodeOptions {
  memory: Pick<GraphMemory, "add">;
  /** Where a failed write is reported (the turn goes on). @default console.warn */
  onWarning?: WarningHandler;
}

/**
 * The `remember` node, a thin translation of the turn core's `rememberExchange`: the exchange's
 * human and AI messages become `episode` records of the run's user, with the turn's importance
 * and the thread and message ids as their source. Message ids make the write idempotent; with
 * the store down the records wait in Memory's outbox. Memory never fails the turn: a long reply
 * is stored as linked parts, what Engram put into the prompt is taken out of the reply
 * (`stripEngramContext`: no memory of memory), and any other failure is a warning.
 */
export function createRememberNode(options: RememberNodeOptions) {
  const resolved = { memory: checkMemory(options?.memory, "createRememberNode", ["add"]), warn: checkWarningHandler(options.onWarning) };
  return async function remember(
    state: StateWith<"messages" | "importance"> & Partial<StateWith<"summary" | "procedures" | "recalled" | "owner">>,
    config?: RunnableConfig,
  ): Promise<MemoryStateUpdate> {
    requireChannels(state, "remember", ["messages", "importance"]);
    // A run resumed here (after a crash) by another user must not file the owner's exchange as theirs.
    checkRunOwner(state, config, "The memory graph");
    await rememberExchange(resolved, state, scopeFromRun(config, "The memory graph"));
    return {};
  };
}
