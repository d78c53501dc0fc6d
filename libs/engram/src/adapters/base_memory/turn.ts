import type { BaseMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { EngramError } from "../../core/errors.js";
import type { MemoryRecord, Scope, ScoredMemory } from "../../core/types.js";
import { DEFAULT_IMPORTANCE_THRESHOLD } from "../../graph/agent.js";
import { routeByImportance } from "../../graph/edges.js";
import { createConsolidateNode } from "../../graph/nodes/consolidate.js";
import { createRecallNode, DEFAULT_RECALL_LIMIT } from "../../graph/nodes/recall.js";
import { createRememberNode } from "../../graph/nodes/remember.js";
import { createScoreNode } from "../../graph/nodes/score.js";
import type { MemoryStateType } from "../../graph/state.js";
import { HeuristicImportanceScorer } from "../../scoring/importance/heuristic.js";
import { defaultWarningHandler } from "../../graph/types.js";
import { selectWindow } from "../../working/window.js";
import type { EngramMemoryOptions } from "./options.js";
import { describeValue } from "../../core/describe.js";

/**
 * What the drop-ins share with the memory graph (same meanings and defaults as `createMemoryGraph`,
 * whose `summaryModel` is `model` here): the fields every drop-in's options have, documented on
 * `EngramMemoryOptions`. The drop-ins' options objects are passed as they are.
 */
export type TurnStepsOptions = Pick<
  EngramMemoryOptions,
  "memory" | "scorer" | "importanceThreshold" | "recallLimit" | "window" | "model" | "summaryMaxTokens" | "forgetEvery" | "onWarning"
>;

/** What long-term memory gives a turn. */
export interface Recollection {
  /** Recalled memories, best first (none in the window already). */
  recalled: ScoredMemory[];
  /** The user's core blocks and learned instructions. */
  procedures: MemoryRecord[];
}

/** Short-term memory at the end of a turn: the conversation including the new exchange. */
export interface TurnInput {
  messages: BaseMessage[];
  summary: string;
  turnsSinceForget: number;
  /** What was recalled for the turn; sets its novelty. */
  recalled: ScoredMemory[];
  /** The core blocks and learned instructions shown in the turn's prompt (never stored back). */
  procedures?: MemoryRecord[];
}

export interface TurnOutcome {
  importance: number;
  /** True when the exchange was stored as episodes. */
  stored: boolean;
  /** The running summary after folding in what left the window. */
  summary: string;
  /** Ids of the messages that left the window. */
  evictedIds: string[];
  turnsSinceForget: number;
}

const MAX_RECALL_LIMIT = 100;

/**
 * The memory graph's nodes as two calls, for drop-ins that are not graphs (a classic chain's
 * memory, an agent middleware): `recall` before the model, `finish` after it (score, the
 * importance edge, remember, consolidate). Options are checked here, when the drop-in is built,
 * so a bad one fails before any turn.
 */
export function createTurnSteps(options: TurnStepsOptions) {
  const { memory } = options;
  if (memory === null || typeof memory !== "object" || typeof memory.search !== "function" || typeof memory.add !== "function") {
    throw new EngramError("INVALID_OPTIONS", "memory must be an Engram Memory, e.g. new Memory().");
  }
  const recallLimit = options.recallLimit ?? DEFAULT_RECALL_LIMIT;
  if (!Number.isInteger(recallLimit) || recallLimit < 1 || recallLimit > MAX_RECALL_LIMIT) {
    throw new EngramError("INVALID_OPTIONS", `recallLimit must be an integer from 1 to ${MAX_RECALL_LIMIT}, got ${describeValue(options.recallLimit)}.`);
  }
  const forgetEvery = options.forgetEvery;
  if (forgetEvery !== undefined && (!Number.isInteger(forgetEvery) || forgetEvery < 0)) {
    throw new EngramError("INVALID_OPTIONS", `forgetEvery must be a whole number (0 turns forgetting off), got ${describeValue(forgetEvery)}.`);
  }
  // selectWindow validates its options; an empty conversation makes that a free check.
  selectWindow([], options.window);
  const route = routeByImportance(options.importanceThreshold ?? DEFAULT_IMPORTANCE_THRESHOLD);
  const scorer = options.scorer ?? new HeuristicImportanceScorer();
  const recallNode = createRecallNode({ memory, limit: recallLimit, onWarning: options.onWarning });
  const scoreNode = createScoreNode({ scorer, onWarning: options.onWarning });
  const rememberNode = createRememberNode({ memory, onWarning: options.onWarning });
  const warn = options.onWarning ?? defaultWarningHandler;
  const consolidateNode = createConsolidateNode({
    memory,
    window: options.window,
    summaryModel: options.model,
    summaryMaxTokens: options.summaryMaxTokens,
    scorer,
    forgetEvery,
    onWarning: options.onWarning,
  });

  return {
    /** Recall for the latest human message of `messages` (the window plus the new input). */
    async recall(messages: BaseMessage[], scope: Scope): Promise<Recollection> {
      const update = await recallNode(graphState({ messages }), configFor(scope));
      // The nodes return plain values (the update type also allows LangGraph's overwrite wrapper).
      return { recalled: (update.recalled as ScoredMemory[] | undefined) ?? [], procedures: (update.procedures as MemoryRecord[] | undefined) ?? [] };
    },

    /** Scores the last exchange, stores it when important, and cuts the conversation to the window. */
    async finish(input: TurnInput, scope: Scope): Promise<TurnOutcome> {
      const config = configFor(scope);
      const state = graphState(input);
      let importance = 0.5;
      try {
        importance = ((await scoreNode(state)).importance as number | undefined) ?? 0;
      } catch (error) {
        // A scorer that fails (an LLM scorer's model down) must not fail the turn: a neutral score.
        warn(`Scoring the turn failed (${(error as Error)?.message ?? error}); it is stored with importance 0.5.`, error);
      }
      const stored = route({ importance }) === "remember";
      if (stored) await rememberNode({ ...state, importance }, config);
      const update = await consolidateNode(state, config);
      const evictedIds = ((update.messages ?? []) as BaseMessage[]).map((message) => (message as BaseMessage).id).filter((id): id is string => typeof id === "string");
      return {
        importance,
        stored,
        summary: (update.summary as string | undefined) ?? input.summary,
        evictedIds,
        turnsSinceForget: (update.turnsSinceForget as number | undefined) ?? input.turnsSinceForget,
      };
    },
  };
}

export type TurnSteps = ReturnType<typeof createTurnSteps>;

/** The run config the graph's nodes read the scope from. */
function configFor(scope: Scope): RunnableConfig {
  return { configurable: { user_id: scope.userId, ...(scope.threadId !== undefined ? { thread_id: scope.threadId } : {}) } };
}

function graphState(parts: Partial<MemoryStateType>): MemoryStateType {
  return { messages: [], summary: "", recalled: [], procedures: [], importance: 0, turnsSinceForget: 0, ...parts };
}
