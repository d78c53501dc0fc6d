import type { RunnableConfig } from "@langchain/core/runnables";
import { EngramError } from "../core/errors.js";
import { validateScope } from "../core/scope.js";
import type { Scope } from "../core/types.js";

/**
 * The memory scope of a graph run: the user from `config.configurable.user_id` (required), the
 * thread from `config.configurable.thread_id`. Taken from the run's config and never from a
 * message or a model's output, so a conversation cannot reach another user's memory.
 */
export function scopeFromConfig(config: RunnableConfig | undefined): Scope & { threadId?: string } {
  const configurable = (config?.configurable ?? {}) as Record<string, unknown>;
  const userId = configurable.user_id;
  if (userId === undefined || userId === null || userId === "") {
    throw new EngramError(
      "INVALID_USER_ID",
      'The memory graph needs the user in config.configurable.user_id, e.g. graph.invoke(input, { configurable: { user_id: "alice", thread_id: "chat-1" } }).',
    );
  }
  const threadId = configurable.thread_id;
  // A numeric thread id is common with the LangGraph API; Engram scopes are strings.
  return validateScope({
    userId,
    threadId: typeof threadId === "number" ? String(threadId) : threadId ?? undefined,
  });
}
