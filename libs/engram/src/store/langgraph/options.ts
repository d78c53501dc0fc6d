import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { EngramError } from "../../core/errors.js";
import type { ChromaConnectionOptions } from "../connection.js";

/**
 * Which parts of a value are embedded for semantic search, and with what. The field paths are
 * LangGraph's: `"text"`, `"a.b"`, `"chapters[*].content"`, `"$"` (the whole value as JSON). Each
 * text found becomes one vector; an item's score is its best vector's cosine similarity.
 */
export interface EngramStoreIndexConfig {
  /**
   * Value fields to embed.
   * @default ["$"] (the whole value, as InMemoryStore does)
   */
  fields?: string[];
  /**
   * Any LangChain `Embeddings`. Changing it for existing data needs a new `prefix`: vectors of
   * different models do not mix, so the prefix records its model and another model's puts and
   * queries are refused with `EMBEDDINGS_MISMATCH` (store/langgraph/model_check.ts).
   * @default new LocalEmbeddings() (USE-Lite in worker threads, offline, 512 dimensions)
   */
  embeddings?: EmbeddingsInterface;
  /**
   * Vector size. Only needed when the embeddings do not say (`dimensions`) and the first write
   * has nothing to embed.
   * @default the embeddings' `dimensions`, else measured once
   */
  dims?: number;
}

/**
 * Time-to-live, as in LangGraph's Python stores. Times are in minutes. An expired item is never
 * returned (get, search, listNamespaces); `sweep()` deletes expired items from Chroma.
 */
export interface EngramStoreTtlConfig {
  /**
   * TTL of items put without their own `ttl`. Unset: such items never expire.
   * @default undefined
   */
  defaultTtl?: number;
  /**
   * Whether `get` and `search` restart an item's TTL (per call: `refreshTtl`).
   * @default true
   */
  refreshOnRead?: boolean;
  /**
   * Run `sweep()` every this many minutes, from the first use (or `start()`) until `stop()` or
   * `close()`. Unset: no timer; call `sweep()` yourself.
   * @default undefined
   */
  sweepIntervalMinutes?: number;
  /**
   * Told after every timed sweep: how many items it deleted, or the error it hit.
   * @default errors are printed with console.warn, successes are silent
   */
  onSweep?: (outcome: { deleted: number } | { error: EngramError }) => void;
}

/** Options for `new EngramStore(options)`. Every field is optional: `new EngramStore()` runs offline. */
export interface EngramStoreOptions {
  /**
   * Folder of the local Chroma server's data (`<dataDir>/chroma`), shared with `Memory`.
   * @default ".engram" (in the working directory)
   */
  dataDir?: string;
  /**
   * Where the items live: the local server by default, `{ url }` for an existing server or
   * Chroma Cloud, `{ client }` for a client of your own.
   * @default { path: "<dataDir>/chroma" }
   */
  chroma?: ChromaConnectionOptions;
  /**
   * Prefix of the store's collection names (`<prefix>-ns-<hash of the first namespace label>`),
   * so several stores and `Memory` can share one server.
   * @default "engram"
   */
  prefix?: string;
  /**
   * Semantic search. `false`: no embeddings at all (a `query` is then ignored, as in
   * InMemoryStore without an index).
   * @default { fields: ["$"], embeddings: new LocalEmbeddings() }
   */
  index?: EngramStoreIndexConfig | false;
  /**
   * Longest one call of the index's embedding model may take, in milliseconds (0: no limit), as
   * `Memory`'s option of the same name. A call past it is abandoned: the `put` or `search` waiting
   * on it fails with `EMBEDDING_FAILED`, nothing of the put written.
   * @default 120_000 for a model you pass; none for Engram's own (`LocalEmbeddings`, `StaticEmbeddings`), which fail rather than hang
   */
  embeddingTimeoutMs?: number;
  /** Expiry of items. @default undefined (nothing expires) */
  ttl?: EngramStoreTtlConfig;
  /** Milliseconds since the epoch; inject one in tests. @default Date.now */
  clock?: () => number;
}
