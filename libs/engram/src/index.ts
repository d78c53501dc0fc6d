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
export { startChromaServer, type ChromaServer, type ChromaServerOptions } from "./store/chroma_server.js";
export type { ChromaConnectionOptions } from "./store/connection.js";
export { DEFAULT_RANKER, type RankerOptions, type ScoreParts } from "./scoring/ranker.js";
export type { EpisodicStore, StoreFilter, StoreHit, StoredRecord } from "./store/types.js";
export { selectWindow, DEFAULT_WINDOW_TURNS, type WindowOptions, type WindowResult } from "./working/window.js";
export { countTokens, MESSAGE_OVERHEAD_TOKENS } from "./working/tokens.js";
export { EngramCheckpointer, CHECKPOINTS_FILE_NAME } from "./adapters/checkpointer/checkpointer.js";
export type {
  EngramCheckpointerOptions,
  CheckpointerFlushResult,
  CheckpointerRecallOptions,
  DeletedThreadMemories,
} from "./adapters/checkpointer/options.js";
