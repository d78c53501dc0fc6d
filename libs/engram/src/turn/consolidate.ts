/**
 * Consolidation at the end of a turn, framework-free: the turns that leave the window are folded
 * into the running summary and stored as a `summary` record, and every `forgetEvery` turns
 * forgetting is started for the user. The graph's `consolidate` node and {@link finishTurn} call it.
 */
import type { BaseMessage } from "@langchain/core/messages";
import { summarize } from "../consolidation/summarize.js";
import { storeWindow } from "../consolidation/window_records.js";
import { isEngramError } from "../core/errors.js";
import type { MemoryRecord, Scope, ScoredMemory } from "../core/types.js";
import { selectWindow } from "../working/window.js";
import { contextOf, withoutEngramContext } from "./echo.js";
import { offTheStream } from "./off_stream.js";
import type { ResolvedTurnOptions } from "./options.js";

/** What consolidation did. */
export interface Consolidation {
  /** The new running summary, or undefined when nothing left the window (or folding it failed). */
  summary: string | undefined;
  /** Ids of the messages that left the window and were folded into the summary. */
  evictedIds: string[];
  /** The thread's forgetting counter after this turn. */
  turnsSinceForget: number;
}

/**
 * Folds the turns that leave the window into the running summary and stores what they leave in
 * long-term memory (`storeWindow`): with `importanceThreshold`, the exchanges scored at or above
 * it as episodes (stored by `remember` already, unless their novelty kept them out) and the rest as
 * a `summary` record naming the thread and the message ids it covers (so a turn routed past
 * `remember` still reaches long-term memory, and none is there twice); without it, every evicted
 * turn goes into the summary record. The record summarizes the evicted turns alone, not the
 * running summary: records then cover disjoint turns and map back to exactly the messages they came
 * from (with a summary model that is a second call per eviction). A failed fold is a warning and
 * the turns stay in the window, to be folded in on a later turn.
 *
 * Every `forgetEvery` turns it starts forgetting (dedupe, decay, cap, TTL) for the user, off the
 * turn when the memory can (`Memory.scheduleForget`; `memory.flush()` waits for it).
 */
export async function consolidateTurn(
  options: Pick<ResolvedTurnOptions, "memory" | "window" | "summaryModel" | "summaryMaxTokens" | "scorer" | "forgetEvery" | "warn"> &
    Partial<Pick<ResolvedTurnOptions, "importanceThreshold">>,
  state: { messages: readonly BaseMessage[]; summary: string; turnsSinceForget: number; recalled?: readonly ScoredMemory[]; procedures?: readonly MemoryRecord[] },
  scope: Scope,
  scoreSummary = true,
): Promise<Consolidation> {
  const { memory, warn } = options;
  const result: Consolidation = { summary: undefined, evictedIds: [], turnsSinceForget: state.turnsSinceForget };
  const { evicted } = selectWindow(state.messages, options.window);
  if (evicted.length > 0) {
    try {
      // The summary model's tokens count in the user's `memory.usage()` (a Memory has the hook).
      const onUsage = options.summaryModel ? memory.usageHook?.("summary", scope.userId) : undefined;
      const summarizeOptions = { model: options.summaryModel, maxTokens: options.summaryMaxTokens, ...(onUsage ? { onUsage } : {}) };
      // What a model echoed of its prompt (recalled memories, the summary...) is not summarized again.
      const said = withoutEngramContext(evicted, contextOf(state));
      // Important exchanges stay episodes (remember stored them during their turn: a no-op then, but
      // one whose novelty kept it out is stored now), the rest go into one summary record.
      const context = contextOf(state);
      // The running summary first: it writes nothing, so when it fails nothing is filed and the
      // later turn that folds these turns in files them once (filed first, they were filed again).
      // The summary model's text (and the scorer's) is upkeep, kept out of the run's messages stream.
      const summary = await offTheStream(() => summarize({ previousSummary: state.summary, evicted: said, ...summarizeOptions }));
      await offTheStream(() => storeWindow(memory, scope, evicted, {
        clean: (exchange) => withoutEngramContext(exchange, context),
        scorer: options.scorer,
        importanceThreshold: options.importanceThreshold,
        summaryModel: options.summaryModel,
        summaryMaxTokens: options.summaryMaxTokens,
        ...(onUsage ? { onUsage } : {}),
        ...(scoreSummary ? {} : { summaryImportance: 0.5 }),
      }));
      result.summary = summary;
      result.evictedIds = evicted.map((m) => m.id).filter((id): id is string => typeof id === "string");
    } catch (error) {
      warn(`Consolidation failed (${(error as Error)?.message ?? error}); the turns stay in the window and are summarized on a later turn.`, error);
    }
  }

  const turns = state.turnsSinceForget + 1;
  const forgetEvery = options.forgetEvery;
  if (forgetEvery > 0 && turns >= forgetEvery) {
    // Forgetting is upkeep: a failed pass is retried at the next interval, the turn goes on.
    // Off the turn a handler that throws (a closed log stream) is contained by Memory's upkeep queue.
    const failed = (error: unknown) => warn(`Forgetting failed (${(error as Error)?.message ?? error}); it runs again in ${forgetEvery} turns.`, error);
    try {
      if (memory.scheduleForget) memory.scheduleForget({ userId: scope.userId }, failed);
      else await memory.forget({ userId: scope.userId });
    } catch (error) {
      if (isEngramError(error) && (error.code.startsWith("INVALID_") || error.code === "CLOSED")) throw error;
      failed(error);
    }
    result.turnsSinceForget = 0;
  } else {
    result.turnsSinceForget = turns;
  }
  return result;
}
