/** Memory's embedding: the model behind a cache of recent texts, with Engram's error contract. */
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { EmbeddingCache } from "../embeddings/cache.js";
import { checkVectors, embeddingFailure } from "../embeddings/vectors.js";
import { withDeadline } from "../embeddings/deadline.js";
import type { WriteMode } from "./write_policy.js";

/** The data folder's checks around the model (memory/model_guard.ts). */
export interface EmbedderGuard {
  /**
   * Runs before a vector is made to be stored: the folder's model claim, so that no vector of a
   * model the folder does not hold reaches the outbox or the store.
   */
  beforeStore(): Promise<void>;
  /**
   * The model's vector size against the folder's: recorded by the first vector stored (`storing`),
   * refused with `EMBEDDINGS_MISMATCH` when the folder's vectors have another size.
   */
  dimensions(size: number, storing: boolean): Promise<void>;
}

const NO_GUARD: EmbedderGuard = { beforeStore: async () => undefined, dimensions: async () => undefined };

export class Embedder {
  constructor(
    private readonly embeddings: EmbeddingsInterface,
    private readonly cache: EmbeddingCache,
    private readonly guard: EmbedderGuard = NO_GUARD,
    /** Longest one model call may take (`MemoryOptions.embeddingTimeoutMs`); 0: no limit. */
    private readonly timeoutMs = 0,
  ) {}

  /** Vectors that will be stored (a drain's, an update's, a fact's): the folder's model is claimed first. */
  async embedToStore(texts: string[]): Promise<number[][]> {
    await this.guard.beforeStore();
    return this.vectors(texts, true);
  }

  /** Vectors to search with (a query, a queued write ranked before it is stored). */
  async embed(texts: string[]): Promise<number[][]> {
    return this.vectors(texts, false);
  }

  /**
   * The vectors an `add` writes with. With `writes: "background"` a text not embedded recently is
   * left without one (undefined) and embedded by the drain, after the call returns: the model is
   * the slowest part of a write. A recalled message is already cached, so it costs nothing either way.
   */
  async forAdd(texts: string[], mode: WriteMode): Promise<Array<number[] | undefined>> {
    // A cached vector (a search's) is this Memory's model's too: claimed in either mode.
    await this.guard.beforeStore();
    if (mode !== "background") return this.vectors(texts, true);
    const cached = texts.map((text) => this.cache.get(text));
    const known = cached.find((vector) => vector !== undefined);
    // A search's vector may be the first this folder stores: its size is recorded.
    if (known !== undefined) await this.guard.dimensions(known.length, true);
    return cached;
  }

  /**
   * The model's vectors, checked (embeddings/vectors.ts) and held to the folder's size before the
   * cache keeps them: a vector that is not one, or of another size than the folder's, is never
   * cached, so the model answering well again is enough.
   */
  private async vectors(texts: string[], storing: boolean): Promise<number[][]> {
    let vectors: number[][];
    try {
      vectors = await this.cache.embed(texts, async (missing) => {
        const fresh = checkVectors(await withDeadline(this.embeddings.embedDocuments(missing), this.timeoutMs, missing.length), missing.length);
        await this.guard.dimensions(fresh[0]!.length, storing);
        return fresh;
      });
    } catch (cause) {
      throw embeddingFailure(cause);
    }
    // Cached vectors were held to the folder's size when made, maybe by a search before the folder
    // recorded one: the first stored records it (at once when it agrees).
    if (storing && vectors.length > 0) await this.guard.dimensions(vectors[0]!.length, true);
    return vectors;
  }
}
