/**
 * `engram`: `Memory`, its options and records, errors, the embedding models and importance scorers
 * a user picks, core blocks and procedures, and the maintenance calls (`reembed`, `planForget`).
 * Each framework door is a subpath of its own (`engram/graph`, `engram/middleware`,
 * `engram/checkpointer`, `engram/store`, `engram/retriever`, `engram/tools`, `engram/classic`,
 * `engram/chat-history`, `engram/mcp`, `engram/state`, `engram/working`, `engram/ui`: see
 * src/entries/), so `import { Memory } from "engram"` loads none of them.
 */
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
export type { AddManyItem, AddManyOptions } from "./memory/add_many.js";
export type { RecallCacheOptions } from "./memory/recall.js";
export type { EndSessionResult } from "./consolidation/end_session.js";
export type { UsageKind, UsageOptions, UsageReport, UsageTotals } from "./memory/usage.js";
export type { TokenUsage, UsageHook } from "./core/token_usage.js";
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
export type { StateOption } from "./state/open.js";
export { DEFAULT_RANKER, STATIC_RANKER, type RankerOptions, type ScoreParts } from "./scoring/ranker.js";
export type { EpisodicStore, StoreFilter, StoreHit, StoredRecord, StoreRevision } from "./store/types.js";
export {
  HeuristicImportanceScorer,
  LlmImportanceScorer,
  CombinedImportanceScorer,
  DEFAULT_HEURISTIC_WEIGHTS,
  LLM_IMPORTANCE_PROMPT,
  type ImportanceInput,
  type ImportanceScore,
  type ImportanceScorer,
  type HeuristicImportanceOptions,
  type HeuristicWeights,
  type LlmImportanceOptions,
  type WeightedScorer,
} from "./scoring/importance/index.js";
export {
  planForget,
  retention,
  DEFAULT_FORGET_RULES,
  type ForgetItem,
  type ForgetOptions,
  type ForgetPlan,
  type ForgetReason,
  type ForgetRemoval,
  type ForgetReport,
  type ForgetRules,
} from "./consolidation/forget.js";
export {
  CoreBlocks,
  blockId,
  DEFAULT_CORE_BLOCKS,
  type CoreBlock,
  type CoreBlockSpec,
  type CoreBlocksOptions,
} from "./memory/blocks.js";
export { Procedures, type LearnOptions } from "./memory/procedures.js";
export type { FactOptions } from "./memory/facts.js";
export type { BackgroundOptions } from "./consolidation/background.js";
export type { EntityOptions } from "./scoring/entities.js";
