/**
 * The one place the user and thread of a run are resolved. Every door that serves runs (the
 * graph and its nodes, the middleware, the tools, the retriever, the checkpointer) asks
 * {@link scopeFromRun}, so "who is this run for" has one answer and one set of errors.
 */
import { EngramError } from "../core/errors.js";
import { validateScope } from "../core/scope.js";
import type { Scope } from "../core/types.js";

/**
 * What names a run's user: a LangChain/LangGraph `RunnableConfig` (`configurable.user_id`,
 * `context` on LangGraph runs) or an agent middleware's `runtime` (`configurable`, `context`).
 */
export interface RunLike {
  configurable?: Record<string, unknown>;
  context?: unknown;
}

/** The run's scope: a user, and the thread when the run names one. */
export type RunScope = Scope & { threadId?: string };

/**
 * The user and thread of a run. The user is `configurable.user_id`, or `context.user_id` /
 * `context.userId` (LangGraph's and `createAgent`'s run context); several may be given only if
 * they agree. The thread is `configurable.thread_id` (a number is taken as its string). Taken from
 * the run and never from a message, a tool argument or a model's output, so a conversation cannot
 * reach another user's memory.
 *
 * @param door who is asking, for the message ("The memory graph", "EngramRetriever"...).
 * @throws EngramError `INVALID_USER_ID` when no user is named or the id is unusable,
 * `INVALID_SCOPE` when two different users are named or the thread id is unusable.
 */
export function scopeFromRun(run: RunLike | undefined, door = "Engram"): RunScope {
  const userId = userOfRun(run, door);
  if (userId === undefined) {
    throw new EngramError(
      "INVALID_USER_ID",
      `${door}: the run names no user. Pass it in config.configurable.user_id, e.g. ` +
        'invoke(input, { configurable: { user_id: "alice", thread_id: "chat-1" } }), or as the run\'s context: ' +
        '{ context: { userId: "alice" } }. Nothing was read or written.',
    );
  }
  const threadId = run?.configurable?.thread_id;
  // A numeric thread id is common with the LangGraph API; Engram scopes are strings.
  return validateScope({ userId, threadId: typeof threadId === "number" ? String(threadId) : threadId ?? undefined });
}

/**
 * True when the run names a user at all, even an unusable one (an empty string): a door for which
 * the user is optional (the checkpointer files only runs that name one) asks this first, and then
 * {@link scopeFromRun} refuses a bad id.
 */
export function runNamesUser(run: RunLike | undefined): boolean {
  return userFields(run).some((value) => value !== undefined && value !== null);
}

/**
 * The user a run's context (or configurable) names, validated, or undefined when it names none.
 * LangGraph's context schema (graph/context.ts) checks with it before a run writes anything.
 * @throws EngramError as {@link scopeFromRun} for a bad or conflicting user.
 */
export function userOfRun(run: RunLike | undefined, door = "Engram"): string | undefined {
  const given = namedUsers(run);
  if (given.length === 0) return undefined;
  if (given.some((value) => value !== given[0])) {
    throw new EngramError("INVALID_SCOPE", `${door}: the run names two different users (config.configurable.user_id and the context's).`, {
      details: { users: given.map((value) => (typeof value === "string" ? value : typeof value)) },
    });
  }
  return validateScope({ userId: given[0] }).userId;
}

/** Every user the run names (empty strings and null count as none; anything else is checked later). */
function namedUsers(run: RunLike | undefined): unknown[] {
  return userFields(run).filter((value) => value !== undefined && value !== null && value !== "");
}

/** The three places a run may name its user. */
function userFields(run: RunLike | undefined): unknown[] {
  const context = run?.context;
  const fromContext = context !== null && typeof context === "object" ? (context as Record<string, unknown>) : {};
  return [run?.configurable?.user_id, fromContext.user_id, fromContext.userId];
}

/**
 * The reducer of a thread's owner channel (the graph's `owner`, the middleware's legacy
 * `engramOwner`): once set, it never changes. A run's input, a `Command`'s `update` or a node can
 * name anyone, and the owner checks compare the run's user with this channel: with the last value
 * kept, `invoke({ messages, owner: "bob" }, bob's config)` on Alice's thread made it Bob's before
 * the checks ran, and showed him her window and summary.
 */
export function keepFirstOwner(current: string, next: string): string {
  return current === "" ? next : current;
}
