import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { EngramError } from "../../core/errors.js";
import { withDeadline } from "../../embeddings/deadline.js";
import { checkVectors, embeddingFailure } from "../../embeddings/vectors.js";
import { textsAtPath } from "./field_text.js";
import type { StoreValue } from "./validate.js";

/**
 * What gets embedded and how: the store's index fields, a put's own `index`, the embeddings
 * model, and the placeholder vector for rows with nothing embedded.
 */
export class StoreIndex {
  private dims?: number;

  constructor(
    private readonly embeddings: EmbeddingsInterface,
    private readonly fields: readonly string[],
    dims?: number,
    /** Longest one model call may take (embeddings/deadline.ts resolveEmbeddingTimeout); 0: no limit. */
    private readonly timeoutMs = 0,
  ) {
    this.dims = dims ?? readDimensions(embeddings);
  }

  /** The distinct texts of a value to embed: `index` false embeds nothing, a list overrides the fields. */
  textsOf(value: StoreValue, index: false | string[] | undefined): string[] {
    if (index === false) return [];
    const texts = (index ?? this.fields).flatMap((path) => textsAtPath(value, path));
    return [...new Set(texts)];
  }

  async embedTexts(texts: string[]): Promise<Map<string, number[]>> {
    const unique = [...new Set(texts)];
    if (unique.length === 0) return new Map();
    // Checked as Memory checks them (embeddings/vectors.ts): a Float32Array is taken, an all-zero
    // vector (no direction: found by no query) refused.
    const vectors = checkVectors(await this.call(() => this.embeddings.embedDocuments(unique), unique.length), unique.length);
    vectors.forEach((vector) => this.checkSize(vector));
    return new Map(unique.map((text, i) => [text, vectors[i]!]));
  }

  async embedQuery(query: string): Promise<number[]> {
    const [vector] = checkVectors([await this.call(() => this.embeddings.embedQuery(query), 1)], 1);
    this.checkSize(vector!);
    return vector!;
  }

  /**
   * The vector of rows with nothing embedded: any fixed unit vector of the right size would do,
   * since queries exclude those rows (`_vec: false`). The size is measured once when unknown.
   */
  async placeholder(): Promise<number[]> {
    this.dims ??= (await this.embedQuery("placeholder")).length;
    return unitVector(this.dims);
  }

  /** A vector checkVectors passed (an array of finite numbers, not empty), held to the store's size. */
  private checkSize(vector: number[]): void {
    this.dims ??= vector.length;
    if (vector.length !== this.dims) {
      throw new EngramError("EMBEDDING_FAILED", `The embeddings returned ${vector.length} dimensions; this store uses ${this.dims}.`);
    }
  }

  /** A model call, under the deadline: a model that never answers fails the put or search, never hangs it. */
  private async call<T>(run: () => Promise<T>, texts: number): Promise<T> {
    try {
      return await withDeadline(run(), this.timeoutMs, texts);
    } catch (cause) {
      throw embeddingFailure(cause);
    }
  }
}

export function unitVector(dims: number): number[] {
  return Array.from({ length: dims }, (_, i) => (i === 0 ? 1 : 0));
}

function readDimensions(embeddings: EmbeddingsInterface): number | undefined {
  const dims = (embeddings as { dimensions?: unknown }).dimensions;
  return typeof dims === "number" && Number.isInteger(dims) && dims > 0 ? dims : undefined;
}
