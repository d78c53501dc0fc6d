import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { RemoveMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { summarize } from "../../consolidation/summarize.js";
import { isEngramError } from "../../core/errors.js";
import type { ImportanceScorer } from "../../scoring/importance/types.js";
import { selectWindow, type WindowOptions } from "../../working/window.js";
import { scopeFromConfig } from "../config.js";
import { exchangeText } from "../messages.js";
import { requireChannels } from "../channels.js";
import type { MemoryStateUpdate, StateWith } from "../state.js";
import { defaultWarningHandler, type GraphMemory, type WarningHandler } from "../types.js";
import { contextOf, withoutEngramContext } from "../echo.js";

export interface ConsolidateNodeOptions {
  memory: Pick<GraphMemory, "add" | "forget" | "scheduleForget" | "usageHook">;
  /** The window kept in the state. @default { maxTurns: 10 } (selectWindow's defaults) */
  window?: WindowOptions;
  /**
   * Writes the summaries. @default undefined: extractive summaries (the most important sentences
   * under the budget), no model call.
   */
  summaryModel?: BaseChatModel;
  /** Token budget of the running summary and of each stored summary. @default 400 */
  summaryMaxTokens?: number;
  /** Scores each stored summary; without one it gets importance 0.5. */
  scorer?: ImportanceScorer;
  /** Run `memory.forget` for the user every this many turns of a thread; 0 turns it off. @default 20 */
  forgetEvery?: number;
  /** Where a failed store write or forgetting pass is reported. @default console.warn */
  onWarning?: WarningHandler;
}

export const DEFAULT_FORGET_EVERY = 20;

/**
 * The `consolidate` node. The turns that leave the window are folded into the running summary,
 * removed from the state (`RemoveMessage`), and stored as a `summary` record that names the thread
 * and the message ids it covers, so a turn routed past `remember` still reaches long-term memory.
 * Every `forgetEvery` turns it starts forgetting (dedupe, decay, cap, TTL) for the user, off the
 * turn (`Memory.scheduleForget`; `memory.flush()` waits for it).
 *
 * The stored record summarizes the evicted turns alone, not the running summary: records then
 * cover disjoint turns and map back to exactly the messages they came from. With a
 * `summaryModel` that is a second model call per eviction.
 */
export function createConsolidateNode(options: ConsolidateNodeOptions) {
  const forgetEvery = options.forgetEvery ?? DEFAULT_FORGET_EVERY;
  const warn = options.onWarning ?? defaultWarningHandler;

  return async function consolidate(
    state: StateWith<"messages" | "summary" | "turnsSinceForget"> & Partial<StateWith<"procedures" | "recalled">>,
    config?: RunnableConfig,
  ): Promise<MemoryStateUpdate> {
    requireChannels(state, "consolidate", ["messages", "summary", "turnsSinceForget"]);
    const scope = scopeFromConfig(config);
    const update: MemoryStateUpdate = {};
    const { evicted } = selectWindow(state.messages, options.window);
    if (evicted.length > 0) {
      try {
        // The summary model's tokens count in the user's `memory.usage()` (a Memory has the hook).
        const onUsage = options.summaryModel ? options.memory.usageHook?.("summary", scope.userId) : undefined;
        const summarizeOptions = { model: options.summaryModel, maxTokens: options.summaryMaxTokens, ...(onUsage ? { onUsage } : {}) };
        // What a model echoed of its prompt (recalled memories, the summary...) is not summarized again.
        const said = withoutEngramContext(evicted, contextOf(state));
        const summary = await summarize({ previousSummary: state.summary, evicted: said, ...summarizeOptions });
        const chunk = await summarize({ previousSummary: "", evicted: said, ...summarizeOptions });
        const messageIds = evicted.map((m) => m.id).filter((id): id is string => typeof id === "string");
        if (chunk.trim() !== "") {
          const importance = options.scorer ? (await options.scorer.score({ text: exchangeText(said) })).value : 0.5;
          // Memory.add keeps the write in its outbox when the store is down: nothing is lost.
          await options.memory.add(chunk, {
            ...scope,
            kind: "summary",
            importance,
            source: { ...(scope.threadId !== undefined ? { threadId: scope.threadId } : {}), messageIds },
            oversize: "split",
          });
        }
        update.summary = summary;
        update.messages = messageIds.map((id) => new RemoveMessage({ id }));
      } catch (error) {
        // The answer is given: the evicted turns stay in the window (nothing is lost) and are
        // folded in on a later turn.
        warn(`Consolidation failed (${(error as Error)?.message ?? error}); the turns stay in the window and are summarized on a later turn.`, error);
      }
    }

    const turns = state.turnsSinceForget + 1;
    if (forgetEvery > 0 && turns >= forgetEvery) {
      // Forgetting is upkeep: a failed pass is retried at the next interval, the turn goes on.
      const failed = (error: unknown) =>
        warn(`Forgetting failed (${(error as Error)?.message ?? error}); it runs again in ${forgetEvery} turns.`, error);
      try {
        // Off the turn when the memory can (a pass reads and compares all of the user's records).
        if (options.memory.scheduleForget) options.memory.scheduleForget({ userId: scope.userId }, failed);
        else await options.memory.forget({ userId: scope.userId });
      } catch (error) {
        if (isEngramError(error) && (error.code.startsWith("INVALID_") || error.code === "CLOSED")) throw error;
        failed(error);
      }
      update.turnsSinceForget = 0;
    } else {
      update.turnsSinceForget = turns;
    }
    return update;
  };
}
