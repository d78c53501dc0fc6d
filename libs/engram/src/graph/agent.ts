import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { RunnableConfig } from "@langchain/core/runnables";
import { END, START, StateGraph, type BaseCheckpointSaver, type BaseStore } from "@langchain/langgraph";
import { HeuristicImportanceScorer } from "../scoring/importance/heuristic.js";
import type { ImportanceScorer } from "../scoring/importance/types.js";
import type { WindowOptions } from "../working/window.js";
import { scopeFromConfig } from "./config.js";
import { routeByImportance } from "./edges.js";
import { createConsolidateNode } from "./nodes/consolidate.js";
import { createModelNode, type ChatModelLike } from "./nodes/model.js";
import { createRecallNode } from "./nodes/recall.js";
import { createRememberNode } from "./nodes/remember.js";
import { createScoreNode } from "./nodes/score.js";
import { GraphSessions, type SessionEnd } from "./sessions.js";
import { MemoryState } from "./state.js";
import type { GraphMemory, WarningHandler } from "./types.js";

/**
 * Importance at or above which a turn is stored as an episode. Turns below it reach long-term
 * memory only through summaries. The default heuristic scores small talk ("ok thanks") 0 and a
 * plain personal statement ("my sister lives in Berlin") about 0.3. Chosen on LoCoMo replayed
 * through the graph (docs/benchmarks.md): at 0.1, 67% of turns are stored as episodes and
 * recall@10 is within 0.3 points of storing every turn (64.6 vs 64.9); at 0.3, 14% were stored and
 * recall@10 fell to 55.4, because turns below it that are still in the window when a session ends never
 * reach a summary.
 */
export const DEFAULT_IMPORTANCE_THRESHOLD = 0.1;

/** Options of `createMemoryGraph`. Only `memory` and `model` are required. */
export interface MemoryGraphOptions {
  /** Long-term memory. The user of each run is `config.configurable.user_id`. */
  memory: GraphMemory;
  /** The chat model (or a model with tools bound) that answers. */
  model: ChatModelLike;
  /** Importance of each exchange. @default new HeuristicImportanceScorer() (no model call) */
  scorer?: ImportanceScorer;
  /** The working window kept in the state. @default { maxTurns: 10 } */
  window?: WindowOptions;
  /** Turns scored at or above this are stored as episodes (0..1). @default DEFAULT_IMPORTANCE_THRESHOLD (0.1) */
  importanceThreshold?: number;
  /** Your instructions, first in the system prompt. @default DEFAULT_SYSTEM_PROMPT */
  systemPrompt?: string;
  /** Keeps each thread's state between runs (summary, window). @default undefined (none: pass one for multi-turn threads) */
  checkpointer?: BaseCheckpointSaver | boolean;
  /** A LangGraph store for nodes of your own, passed to `compile`. @default undefined */
  store?: BaseStore;
  /** Long-term memories recalled into each prompt. @default 5 */
  recallLimit?: number;
  /** Run forgetting for the user every this many turns of a thread; 0 turns it off. @default 20 */
  forgetEvery?: number;
  /** Model that writes summaries. @default undefined (extractive summaries, no model call) */
  summaryModel?: BaseChatModel;
  /** Token budget of the running summary. @default 400 */
  summaryMaxTokens?: number;
  /** Where degraded recall and failed upkeep are reported. @default console.warn */
  onWarning?: WarningHandler;
  /**
   * A thread with no run for this long (ms) has its session ended: the window still in its state
   * is consolidated (important exchanges stored as episodes, the window as a summary record) and
   * folded into the summary, so no turn is lost because the session ended. Needs a checkpointer.
   * `graph.endSession(config)` ends one explicitly. @default undefined (no idle end)
   */
  idleMs?: number;
  /** Told each ended session (idle or explicit). @default undefined */
  onSessionEnd?: (end: SessionEnd) => void;
}

/** What `createMemoryGraph` adds to the compiled graph. */
export interface MemoryGraphSessions {
  /**
   * Ends the session of `config`'s thread now (`configurable.user_id` and `thread_id`): its window
   * is consolidated into long-term memory and the summary, as `idleMs` does. Needs a checkpointer.
   */
  endSession(config: RunnableConfig): Promise<SessionEnd>;
  /** Stops the idle timers of every thread (no session is ended). */
  cancelIdle(): void;
}

/**
 * The memory agent as a compiled LangGraph graph:
 * `recall -> model -> score -> (importance edge) -> [remember ->] consolidate`.
 *
 * ```ts
 * const graph = createMemoryGraph({ memory: new Memory(), model, checkpointer: new MemorySaver() });
 * await graph.invoke({ messages: [new HumanMessage("hi")] }, { configurable: { user_id: "alice", thread_id: "t1" } });
 * ```
 */
export function createMemoryGraph(options: MemoryGraphOptions) {
  const scorer = options.scorer ?? new HeuristicImportanceScorer();
  const route = routeByImportance(options.importanceThreshold ?? DEFAULT_IMPORTANCE_THRESHOLD);
  const onWarning = options.onWarning;
  const graph = new StateGraph(MemoryState)
    .addNode("recall", createRecallNode({ memory: options.memory, limit: options.recallLimit, onWarning }))
    .addNode("model", createModelNode({ model: options.model, systemPrompt: options.systemPrompt }))
    .addNode("score", createScoreNode({ scorer, onWarning }))
    .addNode("remember", createRememberNode({ memory: options.memory, onWarning }))
    .addNode(
      "consolidate",
      createConsolidateNode({
        memory: options.memory,
        window: options.window,
        summaryModel: options.summaryModel,
        summaryMaxTokens: options.summaryMaxTokens,
        scorer,
        forgetEvery: options.forgetEvery,
        onWarning,
      }),
    )
    .addEdge(START, "recall")
    .addEdge("recall", "model")
    .addEdge("model", "score")
    .addConditionalEdges("score", route, ["remember", "consolidate"])
    .addEdge("remember", "consolidate")
    .addEdge("consolidate", END)
    .compile({ checkpointer: options.checkpointer, store: options.store });
  const sessions = new GraphSessions(graph, {
    memory: options.memory,
    scorer,
    importanceThreshold: options.importanceThreshold ?? DEFAULT_IMPORTANCE_THRESHOLD,
    summaryModel: options.summaryModel,
    summaryMaxTokens: options.summaryMaxTokens,
    idleMs: options.idleMs,
    onSessionEnd: options.onSessionEnd,
    onWarning,
  });
  const controls: MemoryGraphSessions = {
    endSession: (config) => sessions.end(config, "explicit"),
    cancelIdle: () => sessions.cancelIdle(),
  };
  return Object.assign(requireUserBeforeRun(graph, sessions), controls);
}

/**
 * Checks the user before the run starts, so a run without one leaves no trace at all (LangGraph
 * checkpoints the input before the first node runs; the nodes check again for graphs of your own).
 */
function requireUserBeforeRun<G extends { _streamIterator: (input: never, options?: never) => AsyncGenerator<unknown> }>(graph: G, sessions: GraphSessions): G {
  const run = graph._streamIterator.bind(graph) as (input: unknown, options?: RunnableConfig) => AsyncGenerator<unknown>;
  const guarded = async function* (input: unknown, options?: RunnableConfig) {
    scopeFromConfig(options);
    // The thread's idle time counts from the end of its latest run.
    sessions.runStarted(options);
    try {
      yield* run(input, options);
    } finally {
      sessions.runEnded(options);
    }
  };
  Object.defineProperty(graph, "_streamIterator", { value: guarded, configurable: true, writable: true });
  return graph;
}
