/**
 * The options and results of Memory's public calls (`new Memory(options)`, `add`, `search`,
 * `getAll`, `update`, `deleteAll`, `flush`).
 */
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { Scope, MemoryKind, MemorySource, Metadata } from "../core/types.js";
import type { ChromaConnectionOptions } from "../store/connection.js";
import type { EpisodicStore } from "../store/types.js";
import type { RankerOptions } from "../scoring/ranker.js";
import type { RecallCacheOptions } from "./recall.js";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { EntityOptions } from "../scoring/entities.js";
import type { FactOptions } from "./facts.js";
import type { StateOption } from "../state/open.js";
import { EngramError } from "../core/errors.js";

/** Options for `new Memory(options)`. Every field is optional: `new Memory()` runs offline. */
export interface MemoryOptions {
  /**
   * Folder for everything Engram keeps on disk: the local Chroma server's data, the history log
   * and the outbox (`engram.sqlite`).
   * @default ".engram" (in the working directory)
   */
  dataDir?: string;
  /**
   * Where the records live. By default Engram starts the Chroma server shipped on npm, serving
   * `<dataDir>/chroma` on 127.0.0.1 and a free port; pass `{ url }` for an existing server or
   * Chroma Cloud, or `{ client }` for a client of your own.
   * @default { path: "<dataDir>/chroma" }
   */
  chroma?: ChromaConnectionOptions;
  /**
   * Any LangChain `Embeddings`. A data folder records the model that wrote its vectors and
   * refuses another with `EMBEDDINGS_MISMATCH`: move it with `engram reembed` (docs/embeddings.md).
   * @default new LocalEmbeddings() (Universal Sentence Encoder Lite in worker threads: offline,
   * 512 dimensions). `new StaticEmbeddings()` is the fast opt-in (about 0.2 ms per text, no TF.js),
   * with about 3 points less cross-validated LoCoMo R@10 (72.8 against 75.6) and its own ranker weights
   * (`STATIC_RANKER`); see docs/embeddings.md.
   */
  embeddings?: EmbeddingsInterface;
  /**
   * Prefix of the Chroma collection names, so several apps can share one server.
   * @default "engram"
   */
  prefix?: string;
  /**
   * Where Engram keeps its shared state: the history log, the outbox of store writes, the job
   * queue, leases, token usage and the checkpointer's filing log. `{ sqlite: "<folder>" }` is
   * SQLite in that folder (`engram.sqlite`); `{ postgres: "postgres://..." }` (or a pg `PoolConfig`)
   * is PostgreSQL, which replicas on several machines share (docs/deploy.md); a `StateBackend`
   * you made is used as is and not closed by `close()`.
   * @default SQLite in the data folder (`<dataDir>/engram.sqlite`)
   */
  state?: StateOption;
  /** Milliseconds since the epoch; inject one in tests. @default Date.now */
  clock?: () => number;
  /**
   * Longest content of one memory, in characters; longer content is refused with
   * `CONTENT_TOO_LARGE`.
   * @default 8000
   */
  maxContentChars?: number;
  /**
   * Weights of the recall ranker behind `search` (semantic relevance, BM25 lexical match,
   * recency, importance). Defaults tuned on LoCoMo's dev half (docs/benchmarks.md).
   */
  ranker?: RankerOptions;
  /** A store of your own instead of Chroma (the `chroma` option is then unused). */
  store?: EpisodicStore;
  /**
   * When `add`, `update` and `delete` return. `"background"`: once the write is durable in the
   * outbox (SQLite in `dataDir`); the model embeds new texts and the write reaches the store right
   * after, off the caller's path. `search`, `get` and `getAll` read the user's pending writes from
   * the outbox with what the store holds, so they see every acknowledged write, in any process
   * sharing the state, without waiting for the drain (`recallIndex.pending`); `history` applies
   * them first. A write the model cannot embed yet stays queued; one the store refuses
   * for good is dropped with a process warning. `"sync"`: once the store has the write (an outage
   * leaves it in the outbox and the result says `pending: true`), and a refusal is thrown.
   * `flush()` waits for everything.
   * @default "background" (an agent's turn should not wait for the model or the store)
   */
  writes?: "sync" | "background";
  /**
   * How many recently embedded texts keep their vector, so that a text embedded to search (the
   * user's message) is not embedded again to be stored. 0 turns it off.
   * @default 1024
   */
  embeddingCache?: number;
  /**
   * Longest one call of the embedding model may take, in milliseconds (0: no limit). A call past
   * it is abandoned, its answer dropped if it ever comes: a search or a sync write fails with
   * `EMBEDDING_FAILED`, a background write stays queued for a later drain, and `flush()` and
   * `close()` never wait for a model that does not answer longer than this.
   * @default 120_000 for a model you pass; none for Engram's own (`LocalEmbeddings`, `StaticEmbeddings`), which fail rather than hang
   */
  embeddingTimeoutMs?: number;
  /**
   * The in-process recall index: how much recall keeps in process (each searched user's records,
   * vectors and BM25 index) for an exact scan without a store round trip, how it reads queued
   * writes and where it checks that it is current (see `RecallCacheOptions`).
   * @default { maxRecords: 100_000, maxUsers: 10_000, exactSearchLimit: 20_000, pending: "overlay", revisions: "auto" }
   */
  recallIndex?: RecallCacheOptions;
  /** @deprecated The same as `recallIndex` (it is an index recall scans, not a cache of results); still accepted. */
  recallCache?: RecallCacheOptions;
  /**
   * The fact-extraction model: with one, `add` extracts facts from each exchange and reconciles
   * them with the user's stored facts (add / update / invalidate / keep), off the hot path by
   * default (docs/facts.md). Any LangChain chat model; tool calling is not needed. (The answering
   * model is the graph's `model`; the summary model is `summaryModel` in every door.)
   * @default undefined (no fact extraction; everything else works offline)
   */
  extractionModel?: BaseChatModel;
  /**
   * @deprecated The same as `extractionModel`, under the name that also meant the answering and
   * the summary model elsewhere; still accepted.
   */
  model?: BaseChatModel;
  /** How fact extraction runs (background queue, debounce, concurrency...). @default see FactOptions */
  facts?: FactOptions;
  /**
   * Offline entity tagging on `add` (people, places, organisations, dates, numbers, stored as
   * `metadata.entities`) and the recall boost for memories whose entities the query names (off by
   * default: cross-validation on LoCoMo chose 0). Tagging follows the boost unless set.
   * @default { extract: false, boost: 0 }
   */
  entities?: EntityOptions;
}

/** Options of `add`. */
export interface AddOptions extends Scope {
  /** Flat metadata stored with each record (string, number or boolean values). */
  metadata?: Metadata;
  /** 0..1. @default 0.5 */
  importance?: number;
  /** The memory is not returned after this time and forgetting removes it. */
  expiresAt?: Date | number;
  /** @default "episode" */
  kind?: MemoryKind;
  /**
   * An explicit id, for a record addressed by name rather than found by meaning (a core block's
   * id is `deterministicId("block", userId, name)`). One record per call. While a record with
   * this id is live, adding again keeps the stored one; change it with `update`.
   * @default derived from the scope and the content (or the message id)
   */
  id?: string;
  /**
   * Where the memory came from, merged into each record's `source` (a summary names the thread
   * and the message ids it covers). Given fields win over those from the scope and the message.
   * @default {} (the scope's threadId and the message's id)
   */
  source?: MemorySource;
  /**
   * Extract facts from what this call stores (needs `MemoryOptions.model`; `true` without one is
   * refused with `INVALID_OPTIONS`). The stored records are written either way.
   * @default true when a model is configured and `kind` is "episode", false otherwise
   */
  infer?: boolean;
  /**
   * What to do with a text or message longer than `maxContentChars`. `"refuse"`: throw
   * `CONTENT_TOO_LARGE` before anything is written (input validation). `"split"`: store it as
   * linked records, cut at paragraph, sentence or word boundaries, each with the same source
   * (thread and message id) and `metadata.part` (1-based) and `metadata.parts`; their ids are
   * derived from the message and the part, so a replay stores nothing twice. The graph, the
   * middleware, `EngramMemory`, the checkpointer and the memory tools split: a long reply never
   * fails a turn.
   * @default "refuse"
   */
  oversize?: "refuse" | "split";
  /**
   * When it was said: the records' `createdAt`, their history entry's time, and the time the
   * relative dates they speak of ("yesterday") are resolved against. A late session end stores
   * each turn at its own time this way. @default now (the Memory's `clock`)
   */
  createdAt?: Date | number;
}

/** What `add` did. */
export interface AddResult {
  /** The records written (or waiting in the outbox), in input order. */
  results: import("../core/types.js").MemoryRecord[];
  /**
   * True when the store was unreachable: the records are safe in the outbox and reach the store
   * on `flush()` or the next successful call.
   */
  pending: boolean;
  /** What was skipped or adjusted (non-text message parts, empty messages...). */
  warnings: string[];
}

/** Narrows `search` and `getAll`. */
export interface MemoryFilters {
  kind?: MemoryKind | MemoryKind[];
  /** Only memories created at or after this time. */
  createdAfter?: Date | number;
  /** Only memories created before this time. */
  createdBefore?: Date | number;
  /** Exact matches on metadata values. */
  metadata?: Metadata;
}

export interface SearchOptions extends Scope {
  /** How many to return. @default 10 */
  limit?: number;
  filters?: MemoryFilters;
  /** Drop results whose score is below this (0..1). @default 0 */
  threshold?: number;
  /**
   * Ranker weights for this call only, over the instance's (`MemoryOptions.ranker`); fields left
   * out keep the instance's value.
   * @default the instance's ranker
   */
  ranker?: RankerOptions;
  /** Also return facts that stopped being true (they carry `metadata.validUntil`). @default false */
  includeInvalid?: boolean;
}

export interface GetAllOptions extends Scope {
  kind?: MemoryKind | MemoryKind[];
  /** @default 100 */
  limit?: number;
  /** @default 0 */
  offset?: number;
  /** Also return facts that stopped being true (they carry `metadata.validUntil`). @default false */
  includeInvalid?: boolean;
}

/** A partial update: only the given fields change. */
export interface MemoryPatch {
  content?: string;
  importance?: number;
  metadata?: Metadata;
  expiresAt?: Date | number | null;
}

/** What `deleteAll` removed, place by place. */
export interface DeleteAllResult {
  /** Records removed from the store. */
  deleted: number;
  /** History entries erased. */
  history: number;
  /** Writes that were still waiting in the outbox and were dropped. */
  pending: number;
  /** Fact extraction jobs that were still waiting and were dropped (present with a model, or when any were). */
  extractions?: number;
}

export interface FlushResult {
  applied: number;
  pending: number;
}

/**
 * `options` under the names Memory's parts read (`model`, `recallCache`), whichever names they
 * were given: `extractionModel` and `recallIndex`, or their deprecated names. Two different values
 * under both names are an error.
 */
export function withCurrentNames(options: MemoryOptions): MemoryOptions {
  if (options === null || typeof options !== "object") return options;
  const { extractionModel, model, recallIndex, recallCache } = options;
  if (extractionModel !== undefined && model !== undefined && extractionModel !== model) {
    throw new EngramError("INVALID_OPTIONS", "Memory: extractionModel and model (its deprecated name) name two different models; pass extractionModel only.");
  }
  if (recallIndex !== undefined && recallCache !== undefined && recallIndex !== recallCache) {
    throw new EngramError("INVALID_OPTIONS", "Memory: recallIndex and recallCache (its deprecated name) are both given; pass recallIndex only.");
  }
  return {
    ...options,
    ...(extractionModel !== undefined ? { model: extractionModel } : {}),
    ...(recallIndex !== undefined ? { recallCache: recallIndex } : {}),
  };
}
