export { Memory } from "./memory/memory.js";
export type {
  AddOptions,
  AddResult,
  DeleteAllResult,
  FlushResult,
  GetAllOptions,
  MemoryFilters,
  MemoryOptions,
  MemoryPatch,
  SearchOptions,
} from "./memory/options.js";
export type { ChatMessageInput } from "./memory/messages.js";
export { USAGE_KINDS, type UsageKind, type UsageOptions, type UsageReport, type UsageTotals } from "./memory/usage.js";
export { tokenUsageOf, type TokenUsage, type UsageHook } from "./core/token_usage.js";
export type {
  HistoryEntry,
  HistoryEvent,
  MemoryKind,
  MemoryRecord,
  MemorySource,
  Metadata,
  MetadataValue,
  Scope,
  ScoredMemory,
} from "./core/types.js";
export { EngramError, isEngramError, type EngramErrorCode, type EngramErrorOptions } from "./core/errors.js";
export { LocalEmbeddings, type LocalEmbeddingsOptions } from "./embeddings/local.js";
export { StaticEmbeddings, STATIC_MODEL_ID, type StaticEmbeddingsOptions } from "./embeddings/static.js";
export { reembed, type ReembedOptions, type ReembedProgress, type ReembedResult } from "./memory/reembed.js";
export { startChromaServer, type ChromaServer, type ChromaServerOptions } from "./store/chroma_server.js";
export type { ChromaConnectionOptions } from "./store/connection.js";
export { DEFAULT_RANKER, STATIC_RANKER, type RankerOptions, type ScoreParts } from "./scoring/ranker.js";
export type { EpisodicStore, StoreFilter, StoreHit, StoredRecord, StoreRevision } from "./store/types.js";
export { selectWindow, DEFAULT_WINDOW_TURNS, type WindowOptions, type WindowResult } from "./working/window.js";
export { countTokens, MESSAGE_OVERHEAD_TOKENS } from "./working/tokens.js";
export {
  HeuristicImportanceScorer,
  LlmImportanceScorer,
  CombinedImportanceScorer,
  DEFAULT_HEURISTIC_WEIGHTS,
  DEFAULT_NOVELTY_WEIGHT,
  LLM_IMPORTANCE_PROMPT,
  parseRating,
  type ImportanceInput,
  type ImportanceScore,
  type ImportanceScorer,
  type HeuristicImportanceOptions,
  type HeuristicWeights,
  type LlmImportanceOptions,
  type WeightedScorer,
} from "./scoring/importance/index.js";
export { summarize, DEFAULT_SUMMARY_MAX_TOKENS, SUMMARY_PROMPT, type SummarizeInput } from "./consolidation/summarize.js";
export { consolidateSession, DEFAULT_END_SESSION_THRESHOLD, type EndSessionOptions, type EndSessionResult } from "./consolidation/end_session.js";
export {
  planForget,
  retention,
  resolveForgetRules,
  DEFAULT_FORGET_RULES,
  type ForgetItem,
  type ForgetOptions,
  type ForgetPlan,
  type ForgetReason,
  type ForgetRemoval,
  type ForgetReport,
  type ForgetRules,
} from "./consolidation/forget.js";
export { EngramCheckpointer, CHECKPOINTS_FILE_NAME } from "./adapters/checkpointer/checkpointer.js";
export type {
  EngramCheckpointerOptions,
  CheckpointerFlushResult,
  CheckpointerRecallOptions,
  DeletedThreadMemories,
} from "./adapters/checkpointer/options.js";
export { createMemoryGraph, DEFAULT_IMPORTANCE_THRESHOLD, type MemoryGraphOptions } from "./graph/agent.js";
export { GraphSessions, type SessionEnd } from "./graph/sessions.js";
export type { MemoryGraphSessions } from "./graph/agent.js";
export {
  MemoryState,
  engramStateFields,
  EngramAnnotation,
  type EngramChannel,
  type MemoryStateType,
  type MemoryStateUpdate,
  type StateWith,
} from "./graph/state.js";
export { buildSystemPrompt, DEFAULT_SYSTEM_PROMPT, type SystemPromptParts } from "./graph/prompt.js";
export { stripEngramContext, type EngramContext } from "./turn/engram_context.js";
export { routeByImportance } from "./graph/edges.js";
export { scopeFromConfig } from "./graph/config.js";
export { createRecallNode, DEFAULT_RECALL_LIMIT, type RecallNodeOptions } from "./graph/nodes/recall.js";
export { createModelNode, type ChatModelLike, type ModelNodeOptions } from "./graph/nodes/model.js";
export { createScoreNode, noveltyOf, type ScoreNodeOptions } from "./graph/nodes/score.js";
export { createRememberNode, type RememberNodeOptions } from "./graph/nodes/remember.js";
export { createConsolidateNode, DEFAULT_FORGET_EVERY, type ConsolidateNodeOptions } from "./graph/nodes/consolidate.js";
export type { GraphMemory, WarningHandler } from "./graph/types.js";
export { EngramMemory } from "./adapters/base_memory/engram_memory.js";
export type { EngramMemoryOptions } from "./adapters/base_memory/options.js";
export { engramMiddleware, engramMiddlewareState, engramMiddlewareContext } from "./adapters/middleware/middleware.js";
export type { EngramMiddlewareOptions } from "./adapters/middleware/options.js";
export {
  CoreBlocks,
  blockId,
  DEFAULT_BLOCK_LIMIT,
  DEFAULT_CORE_BLOCKS,
  type CoreBlock,
  type CoreBlockSpec,
  type CoreBlocksOptions,
  type ResolvedCoreBlockSpec,
} from "./memory/blocks.js";
export { createMemoryTools, coreMemoryPrompt, type MemoryToolsOptions, type CoreMemoryPromptOptions } from "./adapters/tools/index.js";
export { EngramRetriever, type EngramRetrieverOptions, type EngramDocumentMetadata } from "./adapters/retriever/index.js";
export { EngramChatMessageHistory, type EngramChatMessageHistoryOptions, type ChatHistoryMemory } from "./adapters/chat_history/index.js";
export {
  EngramStore,
  collectionNameForLabel,
  type EngramGetOperation,
  type EngramPutOperation,
  type EngramSearchOperation,
  type EngramStoreIndexConfig,
  type EngramStoreOptions,
  type EngramStoreTtlConfig,
} from "./adapters/store/index.js";
export { Procedures, isLearned, type LearnOptions } from "./memory/procedures.js";
export type { FactOptions } from "./memory/facts.js";
export type { BackgroundOptions } from "./consolidation/background.js";
export { extractFacts, extractionSchema, type ExchangeMessage, type ExtractedFact, type ExtractFactsInput } from "./consolidation/extract.js";
export { reconcileFacts, type CandidateFact, type FactDecision, type ReconcileInput, type StoredFact } from "./consolidation/reconcile.js";
export { invokeForJson, parseJsonOutput, type JsonCallOptions } from "./consolidation/json_output.js";
export { isCurrent, VALID_FROM_KEY, VALID_UNTIL_KEY, SUPERSEDED_BY_KEY, SUPERSEDES_KEY } from "./consolidation/validity.js";
export {
  extractEntities,
  boostByEntities,
  ENTITIES_KEY,
  type Entity,
  type EntityOptions,
  type EntityType,
} from "./scoring/entities.js";
