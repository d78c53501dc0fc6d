import type { RunnableConfig } from "@langchain/core/runnables";
import { EngramError } from "../../core/errors.js";
import type { Scope } from "../../core/types.js";
import { scopeFromConfig } from "../../graph/config.js";

/**
 * The user (and thread) a tool or retriever call acts for: `config.configurable.user_id` and
 * `config.configurable.thread_id` of the run. Never a tool argument: the model writes the
 * arguments, and a model must not be able to name another user.
 *
 * @param component who is asking, for the error message ("The memory tools", "EngramRetriever").
 */
export function runScope(config: RunnableConfig | undefined, component: string): Scope {
  const configurable = (config?.configurable ?? {}) as Record<string, unknown>;
  const userId = configurable.user_id;
  if (userId === undefined || userId === null || userId === "") {
    throw new EngramError(
      "INVALID_USER_ID",
      `${component}: the run names no user. Pass it in config.configurable.user_id, e.g. ` +
        'agent.invoke(input, { configurable: { user_id: "alice", thread_id: "chat-1" } }). Nothing was read or written.',
    );
  }
  // The graph's rule set: same validation (strings, no operators), numeric thread ids accepted.
  return scopeFromConfig(config);
}
