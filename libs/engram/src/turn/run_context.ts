import { z } from "zod";
import { EngramError } from "../core/errors.js";
import { userOfRun } from "./scope.js";

/**
 * A run's context schema that requires the run's user (turn/scope.ts rules), for LangGraph's
 * public `context` schema of a `StateGraph` (`new StateGraph({ state, context: MemoryContext })`,
 * as `createMemoryGraph` does) or `createAgent({ contextSchema: MemoryContext })`. LangGraph
 * validates it when a run starts, before the input checkpoint is written, and every copy of the
 * compiled graph keeps it (`withConfig`, `withListeners`, use as a subgraph): so a run that names
 * no user leaves no trace. Only zod here: no LangGraph import.
 *
 * LangGraph validates the run's `context` when the run passes one, and otherwise its
 * `config.configurable`; it derives nothing from what it validates. So:
 * - `invoke(input, { configurable: { user_id: "alice", thread_id } })` (no context): the user is
 *   checked in `configurable`, as it always was;
 * - `invoke(input, { context: { userId: "alice" } })` (or `user_id`): checked in the context;
 * - a context that names no user but has other keys is refused (the user must then be in the
 *   context too: LangGraph does not show this check the `configurable`);
 * - an empty context (`{}`, which the LangGraph server passes with every run) is let through,
 *   and the nodes take the user from `configurable.user_id` and refuse a run that names none
 *   before reading or writing memory. Only there can a user-less run leave a trace: LangGraph
 *   has saved its input (and the step applying it) in the thread (graph/context.int.test.ts).
 */
export const MemoryContext = z
  .looseObject({
    user_id: z.string().optional().describe("The user whose memory this run reads and writes."),
    userId: z.string().optional().describe("The same as user_id (createAgent's spelling)."),
  })
  .superRefine(
    (payload) => {
      const value = payload as Record<string, unknown>;
      const user = userOfRun({ context: value }, "Engram");
      if (user !== undefined || Object.keys(value).length === 0) return;
      throw new EngramError(
        "INVALID_USER_ID",
        "Engram: the run names no user. Pass it in config.configurable.user_id, e.g. " +
          'invoke(input, { configurable: { user_id: "alice", thread_id: "chat-1" } }), or, when the run passes a context, ' +
          'in the context: { context: { userId: "alice" } }. Nothing was read or written.',
      );
    },
    // Also when a field has the wrong type, so that is an EngramError too, not a ZodError.
    { when: () => true },
  );

export type MemoryContextType = z.infer<typeof MemoryContext>;
