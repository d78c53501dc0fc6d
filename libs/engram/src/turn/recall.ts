/**
 * The recall half of a turn, framework-free: the latest human message becomes a query over the
 * user's long-term memory, and the user's procedure records are read for the prompt. The graph's
 * `recall` node, the middleware's model call and `EngramMemory.loadMemoryVariables` call it.
 */
import type { BaseMessage } from "@langchain/core/messages";
import { isEngramError } from "../core/errors.js";
import type { Scope } from "../core/types.js";
import { lastHumanIndex, textOf } from "./messages.js";
import type { ResolvedTurnOptions } from "./options.js";
import type { Recollection } from "./types.js";

/** Core blocks and learned instructions of one user: always few, read in full each turn. */
const MAX_PROCEDURES = 100;

/** Extra candidates asked for at most, to make up for the ones still in the window. */
const MAX_WINDOW_EXTRA = 50;

/**
 * What long-term memory gives the turn whose conversation is `messages` (the window plus the new
 * input): memories of every thread of the user that bear on the latest human message, best first,
 * none of them about a message still in `messages` (that is in the prompt verbatim already), and
 * the user's procedures. With the store down the turn goes on with the window and the summary:
 * a warning and an empty, `degraded` recollection, never an error. A bad scope or a closed
 * `Memory` still throws (those are the caller's bugs, not outages).
 */
export async function recallFor(
  options: Pick<ResolvedTurnOptions, "memory" | "recallLimit" | "recallKinds" | "maxQueryChars" | "warn">,
  messages: readonly BaseMessage[],
  scope: Scope,
): Promise<Recollection> {
  const { memory, recallLimit } = options;
  const index = lastHumanIndex(messages);
  const query = index < 0 ? "" : textOf(messages[index]!).trim().slice(0, options.maxQueryChars);
  const userId = scope.userId;
  try {
    const [found, procedures] = await Promise.all([
      query === ""
        ? Promise.resolve([])
        : memory.search(query, { userId, limit: recallLimit + Math.min(messages.length, MAX_WINDOW_EXTRA), filters: { kind: [...options.recallKinds] } }),
      memory.getAll({ userId, kind: "procedure", limit: MAX_PROCEDURES }),
    ]);
    const inWindow = new Set(messages.map((m) => m.id).filter((id): id is string => typeof id === "string"));
    const recalled = found.filter((hit) => !(hit.source.messageIds ?? []).some((id) => inWindow.has(id))).slice(0, recallLimit);
    return { recalled, procedures, degraded: false };
  } catch (error) {
    if (isEngramError(error) && (error.code.startsWith("INVALID_") || error.code === "CLOSED")) throw error;
    options.warn(`Recall failed (${(error as Error)?.message ?? error}); answering from the window and the summary only.`, error);
    return { recalled: [], procedures: [], degraded: true };
  }
}
