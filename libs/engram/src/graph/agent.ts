// For the declaration files: with this import in scope, TypeScript names the graph state's message type
// from `@langchain/core` rather than from `langchain` (an optional peer), see graph/state.ts.
import type { BaseMessage } from "@langchain/core/messages";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { RunnableConfig } from "@langchain/core/runnables";
import { END, START, StateGraph, type BaseCheckpointSaver, type BaseStore } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { refuseUnknownOptions, type OptionNames } from "../core/option_names.js";
import type { ImportanceScorer } from "../scoring/importance/types.js";
import { DEFAULT_IMPORTANCE_THRESHOLD, resolveTurnOptions } from "../turn/options.js";
import type { WindowOptions } from "../working/window.js";
import { checkRunOwner } from "./channels.js";
import { MemoryContext } from "./context.js";
import { routeByImportance } from "./edges.js";
import { createConsolidateNode } from "./nodes/consolidate.js";
import { createModelNode, type ChatModelLike } from "./nodes/model.js";
import { createRecallNode } from "./nodes/recall.js";
import { createRememberNode } from "./nodes/remember.js";
import { createScoreNode } from "./nodes/score.js";
import { GraphSessions, type SessionEnd } from "./sessions.js";
import { MemoryInput, MemoryState, type MemoryStateType } from "./state.js";
import { afterModel, checkTools, refuseToolCalls, type GraphTool } from "./tools.js";
import type { GraphMemory, WarningHandler } from "./types.js";

export { DEFAULT_IMPORTANCE_THRESHOLD };

/** Options of `createMemoryGraph`. Only `memory` and `model` are required. */
export interface MemoryGraphOptions {
  /**
   * Long-term memory. The user of each run is `config.configurable.user_id` (or the run's
   * `context.userId`), checked before the run writes anything (`MemoryContext`).
   */
  memory: GraphMemory;
  /** The chat model that answers (with `tools`, a model that has them bound). */
  model: ChatModelLike;
  /**
   * Tools the model may call in a turn: each tool call of the model is run (LangGraph's
   * `ToolNode`) and the model called again with the results, until it answers. Bind them to the
   * model too (`model.bindTools(tools)`): a chat model given unbound is bound here.
   * @default undefined (a reply with tool calls fails the turn with INVALID_OPTIONS)
   */
  tools?: GraphTool[];
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

/** Every name of MemoryGraphOptions. */
const GRAPH_OPTIONS: OptionNames<MemoryGraphOptions> = {
  memory: true,
  model: true,
  tools: true,
  scorer: true,
  window: true,
  importanceThreshold: true,
  systemPrompt: true,
  checkpointer: true,
  store: true,
  recallLimit: true,
  forgetEvery: true,
  summaryModel: true,
  summaryMaxTokens: true,
  onWarning: true,
  idleMs: true,
  onSessionEnd: true,
};

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
  // Every option is checked here, once, with the same codes as the other doors.
  const turn = resolveTurnOptions(options, "createMemoryGraph");
  refuseUnknownOptions(options, "createMemoryGraph", GRAPH_OPTIONS, "{ memory, model }");
  const { memory, scorer, onWarning } = { ...options, scorer: turn.scorer, onWarning: turn.warn };
  const route = routeByImportance(turn.importanceThreshold);
  const sessions = new GraphSessions(undefined, {
    memory,
    scorer,
    importanceThreshold: turn.importanceThreshold,
    summaryModel: turn.summaryModel,
    summaryMaxTokens: turn.summaryMaxTokens,
    idleMs: options.idleMs,
    onSessionEnd: options.onSessionEnd,
    onWarning,
  });
  const recall = createRecallNode({ memory, limit: turn.recallLimit, onWarning });
  const consolidate = createConsolidateNode({
    memory,
    window: turn.window,
    summaryModel: turn.summaryModel,
    summaryMaxTokens: turn.summaryMaxTokens,
    scorer,
    importanceThreshold: turn.importanceThreshold,
    forgetEvery: turn.forgetEvery,
    onWarning,
  });
  // LangGraph's context schema checks the run's user before the input checkpoint is written, in
  // every copy of the compiled graph (withConfig, withListeners, a parent graph's subgraph).
  const tools = checkTools(options.tools);
  const model = tools.length > 0 && isUnboundChatModel(options.model) ? options.model.bindTools(tools) : options.model;
  const answer = createModelNode({ model, systemPrompt: options.systemPrompt });
  const toolNode = new ToolNode(tools);
  const graph = new StateGraph({ state: MemoryState, input: MemoryInput, context: MemoryContext })
    // The thread's idle time counts from the end of its latest run: stopped when a run starts,
    // started again when its last node is done. (A run that fails midway starts none: ending a
    // thread whose checkpoint still waits on a failed node: LangGraph's updateState did not return.)
    .addNode("recall", (state: MemoryStateType, config: RunnableConfig) => {
      sessions.runStarted(config);
      return recall(state, config);
    })
    .addNode("model", async (state: MemoryStateType, config: RunnableConfig) => {
      const update = await answer(state, config);
      if (tools.length === 0) refuseToolCalls(update.messages);
      return update;
    })
    .addNode("tools", (state: MemoryStateType, config: RunnableConfig) => {
      // A run resumed at a tool's interrupt() starts here: only the thread's owner runs its tools.
      checkRunOwner(state, config, "The memory graph");
      return toolNode.invoke(state, config);
    })
    .addNode("score", createScoreNode({ scorer, onWarning }))
    .addNode("remember", createRememberNode({ memory, onWarning }))
    .addNode("consolidate", async (state: MemoryStateType, config: RunnableConfig) => {
      const update = await consolidate(state, config);
      sessions.runEnded(config);
      return update;
    })
    .addEdge(START, "recall")
    .addEdge("recall", "model")
    // A reply that calls tools goes to them and back to the model (without tools, the model node
    // refuses such a reply).
    .addConditionalEdges("model", afterModel, ["tools", "score"])
    .addEdge("tools", "model")
    .addConditionalEdges("score", route, ["remember", "consolidate"])
    .addEdge("remember", "consolidate")
    .addEdge("consolidate", END)
    .compile({ checkpointer: options.checkpointer, store: options.store });
  sessions.attach(graph);
  const controls: MemoryGraphSessions = {
    endSession: (config) => sessions.end(config, "explicit"),
    cancelIdle: () => sessions.cancelIdle(),
  };
  return Object.assign(graph, controls);
}

/** A chat model of its own (not one with tools bound already: a binding has no `bindTools`). */
function isUnboundChatModel(model: ChatModelLike): model is ChatModelLike & { bindTools(tools: GraphTool[]): ChatModelLike } {
  return typeof (model as { bindTools?: unknown }).bindTools === "function";
}
