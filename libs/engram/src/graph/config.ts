import type { RunnableConfig } from "@langchain/core/runnables";
import type { Scope } from "../core/types.js";
import { scopeFromRun } from "../turn/scope.js";

/**
 * The memory scope of a graph run: the user from `config.configurable.user_id` (or the run's
 * `context.user_id` / `context.userId`), the thread from `config.configurable.thread_id`. The turn
 * core's `scopeFromRun`, named for graph code of your own.
 */
export function scopeFromConfig(config: RunnableConfig | undefined): Scope & { threadId?: string } {
  return scopeFromRun(config, "The memory graph");
}
