import { EngramError } from "../../core/errors.js";
import { validateScope } from "../../core/scope.js";
import type { Scope } from "../../core/types.js";

/** The parts of an agent middleware's runtime that name the user and the thread. */
export interface RuntimeLike {
  configurable?: Record<string, unknown>;
  context?: unknown;
}

/**
 * The user (and thread) of an agent run: `config.configurable.user_id`, or `context.userId` when
 * the agent is invoked with `{ context: { userId } }`. Both may be given only if they agree. Taken
 * from the run, never from a message or a tool argument, so a conversation cannot reach another
 * user's memory.
 */
export function runUser(runtime: RuntimeLike | undefined): Scope {
  const fromConfig = runtime?.configurable?.user_id;
  const context = runtime?.context;
  const fromContext = context !== null && typeof context === "object" ? (context as Record<string, unknown>).userId : undefined;
  const given = [fromConfig, fromContext].filter((value) => value !== undefined && value !== null && value !== "");
  if (given.length === 0) {
    throw new EngramError(
      "INVALID_USER_ID",
      "engramMiddleware: the run names no user. Pass it as agent.invoke(input, { configurable: { user_id: \"alice\", thread_id: \"chat-1\" } }) " +
        'or as { context: { userId: "alice" } }. Nothing was read or written.',
    );
  }
  if (given.length === 2 && fromConfig !== fromContext) {
    throw new EngramError("INVALID_SCOPE", "engramMiddleware: config.configurable.user_id and context.userId name different users.", {
      details: { configurable: fromConfig, context: fromContext },
    });
  }
  const threadId = runtime?.configurable?.thread_id;
  // A numeric thread id is common with the LangGraph API; Engram scopes are strings.
  return validateScope({ userId: given[0], threadId: typeof threadId === "number" ? String(threadId) : threadId ?? undefined });
}
