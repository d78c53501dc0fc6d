import { RemoveMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import { z } from "zod";
import { withLangGraph } from "@langchain/langgraph/zod";
import { EngramError } from "../../core/errors.js";
import { finishTurn } from "../../turn/finish.js";
import { lastHumanIndex, repeatedSystemIds } from "../../turn/messages.js";
import { resolveTurnOptions } from "../../turn/options.js";
import { buildSystemPrompt } from "../../turn/prompt.js";
import { recallFor } from "../../turn/recall.js";
import { keepFirstOwner, scopeFromRun, type RunLike, type RunScope } from "../../turn/scope.js";
import type { Recollection } from "../../turn/types.js";
import { createMiddleware } from "./create.js";
import { turnOptionsOf, type EngramMiddlewareOptions } from "./options.js";
import { ShownRecollections } from "./shown_recollections.js";

/**
 * `schema` with LangGraph's reducer {@link keepFirstOwner} registered for it (withLangGraph
 * registers it for this very schema object and returns it). Typed as the schema given: withLangGraph's
 * overloads take zod's `InteropZodType`, which a `ZodDefault` does not match in these types, and the
 * default is what keeps the field optional in a run's input and initialized in createAgent's state.
 */
function keptFirst(schema: z.ZodDefault<z.ZodString>): z.ZodDefault<z.ZodString> {
  withLangGraph(schema as unknown as z.ZodString, { reducer: { fn: keepFirstOwner }, default: () => "" });
  return schema;
}

/**
 * The middleware's own state, checkpointed with the thread: the running summary of the turns
 * that left the window, and the forgetting counter.
 */
export const engramMiddlewareState = z.object({
  /** Running summary of the turns removed from the thread ("" until the first eviction). */
  engramSummary: z.string().default(""),
  /** Runs since forgetting last ran for the user in this thread. */
  engramTurnsSinceForget: z.number().default(0),
  /**
   * Before `_engramOwner`: the owner as a public field, which a run's input could set (so a client
   * naming itself the owner of another user's thread passed the check). Read only for threads
   * checkpointed before, until their owner's next run; never written. It keeps its first non-empty
   * value: a run's input naming another owner of such a thread leaves it as it was.
   */
  engramOwner: keptFirst(z.string().default("")),
  /**
   * The user of the thread's first run: the summary and the window are that user's conversation.
   * Private (the leading `_`): createAgent leaves it out of the agent's input and output schemas,
   * so a run's input cannot name a thread's owner; only beforeAgent writes it.
   */
  _engramOwner: z.string().default(""),
});

/** The run's user may come from the context: `agent.invoke(input, { context: { userId } })`. */
export const engramMiddlewareContext = z.object({
  /** The user, when it is not in `config.configurable.user_id`. */
  userId: z.string().optional(),
});

/**
 * Engram for `createAgent` (the `langchain` package): long-term memory across the threads of a
 * user, and a running summary of the turns that leave the window.
 *
 * - `wrapModelCall`: the latest human message is the query; the user's core blocks, learned
 *   instructions, the running summary and the recalled memories are added to the system message
 *   of that call only (nothing piles up in the thread).
 * - `afterAgent`: the run's exchange is scored and stored as episodes when important; turns
 *   beyond the window are folded into the summary (`engramSummary` in the thread's state) and
 *   removed from the thread's messages.
 *
 * The user is `config.configurable.user_id` or `context.userId`; a run with neither fails with
 * `INVALID_USER_ID` before the model is called or anything is written.
 */
export function engramMiddleware(options: EngramMiddlewareOptions) {
  if (options === null || typeof options !== "object") {
    throw new EngramError("INVALID_OPTIONS", "engramMiddleware needs options: engramMiddleware({ memory }).");
  }
  const turn = resolveTurnOptions(turnOptionsOf(options), "engramMiddleware");
  const shown = new ShownRecollections();

  return createMiddleware({
    name: "EngramMiddleware",
    stateSchema: engramMiddlewareState,
    contextSchema: engramMiddlewareContext,

    // Fail the run before the first model call when no user is named, or when the thread (its
    // window and running summary, checkpointed by thread id alone) is another user's.
    beforeAgent: (state, runtime) => {
      const { userId } = ownScope(state, runtime);
      return state._engramOwner === userId ? undefined : { _engramOwner: userId };
    },

    // A run resumed after an interrupt (human-in-the-loop, a tool's `interrupt()`) starts at the
    // paused node, not at beforeAgent: every hook checks the thread's owner again, so another
    // user's resume neither runs the owner's pending tool call, nor shows the model the owner's
    // thread, nor files the owner's exchange into that user's memory.
    wrapToolCall: (request, handler) => {
      ownScope(request.state, request.runtime);
      return handler(request);
    },

    wrapModelCall: async (request, handler) => {
      const scope = ownScope(request.state, request.runtime);
      const recollection = await recallFor(turn, request.messages, scope);
      shown.set(scope.userId, latestHumanId(request.messages), recollection);
      const system = withMemory(request.systemMessage, recollection, request.state.engramSummary ?? "");
      return handler(system === request.systemMessage ? request : { ...request, systemMessage: system });
    },

    afterAgent: async (state, runtime) => {
      const scope = ownScope(state, runtime);
      // What the model was shown: its novelty, and what is never stored back from its reply.
      const seen = shown.take(scope.userId, latestHumanId(state.messages));
      const outcome = await finishTurn(
        turn,
        {
          messages: state.messages,
          summary: state.engramSummary ?? "",
          turnsSinceForget: state.engramTurnsSinceForget ?? 0,
          recalled: seen.recalled,
          procedures: seen.procedures,
        },
        scope,
      );
      // What left the window, and repeated copies of a system message sent with every run.
      const removed = [...outcome.evictedIds, ...repeatedSystemIds(state.messages)];
      return {
        engramSummary: outcome.summary,
        engramTurnsSinceForget: outcome.turnsSinceForget,
        ...(removed.length > 0 ? { messages: removed.map((id) => new RemoveMessage({ id })) } : {}),
      };
    },
  });
}

/**
 * The run's scope, once the thread is known to be its user's (or no one's yet): the window and
 * the running summary, checkpointed by thread id alone, are the conversation of its first user.
 */
function ownScope(state: { engramOwner?: string; _engramOwner?: string }, runtime: RunLike): RunScope {
  const scope = scopeFromRun(runtime, "engramMiddleware");
  const owner = state._engramOwner || (state.engramOwner ?? "");
  if (owner !== "" && owner !== scope.userId) {
    throw new EngramError("INVALID_SCOPE", "engramMiddleware: this thread belongs to another user; give each user threads of their own (thread_id).");
  }
  return scope;
}

function latestHumanId(messages: readonly BaseMessage[]): string | undefined {
  const index = lastHumanIndex(messages);
  return index < 0 ? undefined : messages[index]!.id;
}

/**
 * The call's system message with the memory sections after it. The agent's own system message is
 * kept as it is (content blocks, cache control); without one, Engram's default instructions lead.
 */
function withMemory(system: SystemMessage, recollection: Pick<Recollection, "recalled" | "procedures">, summary: string): SystemMessage {
  const parts = { procedures: recollection.procedures, summary, recalled: recollection.recalled };
  // An empty base leaves only the memory sections (buildSystemPrompt starts with the base).
  const sections = buildSystemPrompt({ ...parts, base: "" }).trim();
  if (sections === "") return system;
  if (system.text.trim() === "") return new SystemMessage(buildSystemPrompt(parts));
  return system.concat(`\n\n${sections}`);
}
