/**
 * `engram/graph`: the LangGraph door. The prebuilt agent (`createMemoryGraph`), its state schema,
 * the recall / model / score / remember / consolidate nodes and the importance edge for a graph of
 * your own, and the system prompt they build. Needs `@langchain/langgraph`.
 */
export { createMemoryGraph, DEFAULT_IMPORTANCE_THRESHOLD, type MemoryGraphOptions, type MemoryGraphSessions } from "../graph/agent.js";
export type { GraphTool } from "../graph/tools.js";
export { GraphSessions, type SessionEnd } from "../graph/sessions.js";
export { queueThreadRuns, type ThreadQueued, type ThreadRunnable } from "../turn/thread_runs.js";
export {
  MemoryState,
  engramStateFields,
  EngramAnnotation,
  type EngramChannel,
  type MemoryStateType,
  type MemoryStateUpdate,
  type StateWith,
} from "../graph/state.js";
export { buildSystemPrompt, DEFAULT_SYSTEM_PROMPT, type SystemPromptParts } from "../graph/prompt.js";
export { routeByImportance } from "../graph/edges.js";
export { scopeFromConfig } from "../graph/config.js";
export { MemoryContext, type MemoryContextType } from "../graph/context.js";
export { createRecallNode, DEFAULT_RECALL_LIMIT, type RecallNodeOptions } from "../graph/nodes/recall.js";
export { createModelNode, type ChatModelLike, type ModelNodeOptions } from "../graph/nodes/model.js";
export { createScoreNode, type ScoreNodeOptions } from "../graph/nodes/score.js";
export { createRememberNode, type RememberNodeOptions } from "../graph/nodes/remember.js";
export { createConsolidateNode, DEFAULT_FORGET_EVERY, type ConsolidateNodeOptions } from "../graph/nodes/consolidate.js";
export type { GraphMemory, WarningHandler } from "../graph/types.js";
