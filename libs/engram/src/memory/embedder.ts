/** Memory's embedding: the model behind a cache of recent texts, with Engram's error contract. */
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { EngramError } from "../core/errors.js";
import type { EmbeddingCache } from "../embeddings/cache.js";
import type { WriteMode } from "./write_policy.js";

export class Embedder {
  constructor(
    private readonly embeddings: EmbeddingsInterface,
    private readonly cache: EmbeddingCache,
    /**
     * Runs before a vector is made to be stored: the folder's model claim (memory/model_guard.ts),
     * so that no vector of a model the folder does not hold reaches the outbox or the store.
     */
    private readonly beforeStore: () => Promise<void> = async () => undefined,
  ) {}

  /** Vectors that will be stored (a drain's, an update's, a fact's): the folder's model is claimed first. */
  async embedToStore(texts: string[]): Promise<number[][]> {
    await this.beforeStore();
    return this.embed(texts);
  }

  async embed(texts: string[]): Promise<number[][]> {
    try {
      return await this.cache.embed(texts, (missing) => this.embeddings.embedDocuments(missing));
    } catch (cause) {
      if (cause instanceof EngramError) throw cause;
      throw new EngramError("EMBEDDING_FAILED", `Embedding failed: ${(cause as Error)?.message ?? cause}`, { cause });
    }
  }

  /**
   * The vectors an `add` writes with. With `writes: "background"` a text not embedded recently is
   * left without one (undefined) and embedded by the drain, after the call returns: the model is
   * the slowest part of a write. A recalled message is already cached, so it costs nothing either way.
   */
  async forAdd(texts: string[], mode: WriteMode): Promise<Array<number[] | undefined>> {
    // A cached vector (a search's) is this Memory's model's too: claimed in either mode.
    await this.beforeStore();
    if (mode !== "background") return this.embed(texts);
    return texts.map((text) => this.cache.get(text));
  }
}
