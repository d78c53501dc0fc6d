/**
 * Embeddings shared by the systems of one run, cached by text. The local models are deterministic
 * (batched and single embeddings agree to ~1e-7), so a text embedded once for `dense` need not be
 * embedded again for `engram` or its ablation rows: each row then costs seconds instead of minutes.
 *
 * A run may hold both of Engram's models (`use-lite`, `static`): one cache per model, each
 * carrying its model's `modelId`, so a `Memory` given the cache picks the model's own ranker
 * weights and records the same model in its folder as it would with the model itself.
 */
import { LocalEmbeddings, StaticEmbeddings } from "engram";
import { embedWithUseLite } from "./use_lite_inline.js";

/** The two methods engram (and LangChain) call on an embeddings object. */
export interface TextEmbedder {
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

/** Engram's own embedding models, by the bench's name for them. */
export const MODEL_NAMES = ["use-lite", "static"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** A short label for row names. */
export const MODEL_LABELS: Record<ModelName, string> = { "use-lite": "USE-Lite", static: "static" };

/** The id each model records in a data folder (its `modelId`), read from the library. */
export function modelIds(): Record<ModelName, string> {
  return { "use-lite": new LocalEmbeddings().modelId, static: new StaticEmbeddings().modelId };
}

/**
 * The model behind a name. USE-Lite runs in this process (use_lite_inline.ts: the same weights
 * and text handling as `LocalEmbeddings`' workers), so a long run does not depend on the
 * library's worker file while other work rebuilds the package.
 */
export function createModel(name: ModelName): TextEmbedder {
  if (name === "static") return new StaticEmbeddings();
  return {
    embedDocuments: (texts) => embedWithUseLite(texts),
    embedQuery: async (text) => (await embedWithUseLite([text]))[0]!,
  };
}

export class CachedEmbeddings implements TextEmbedder {
  private readonly cache = new Map<string, number[]>();

  /** Texts embedded by the model / served from the cache. */
  readonly stats = { embedded: 0, cached: 0 };

  /**
   * @param modelId the inner model's id (embeddings/identity.ts), so that Memory treats the cache
   *   as that model (its ranker defaults, its folder marker). Undefined: the inner's own `modelId`.
   */
  constructor(
    private readonly inner: TextEmbedder = new LocalEmbeddings(),
    private readonly enabled = true,
    modelId?: string,
  ) {
    const own = (inner as { modelId?: unknown }).modelId;
    this.modelId = modelId ?? (typeof own === "string" ? own : undefined);
  }

  readonly modelId: string | undefined;

  /** Vectors computed earlier by the same model (a run's disk cache, see locomo/lab.ts), by text. */
  seed(entries: Iterable<readonly [string, number[]]>): void {
    for (const [text, vector] of entries) this.cache.set(text, vector);
  }

  /** Whether the text's vector is cached (seeded or embedded). */
  has(text: string): boolean {
    return this.cache.has(text);
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    if (!this.enabled) {
      this.stats.embedded += texts.length;
      return this.inner.embedDocuments(texts);
    }
    const missing = [...new Set(texts.filter((text) => !this.cache.has(text)))];
    if (missing.length > 0) {
      const vectors = await this.inner.embedDocuments(missing);
      missing.forEach((text, i) => this.cache.set(text, vectors[i]!));
    }
    this.stats.embedded += missing.length;
    this.stats.cached += texts.length - missing.length;
    return texts.map((text) => this.cache.get(text)!);
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([text]);
    return vector!;
  }

  /** The model itself, uncached (to check a seed file against it). */
  embedFresh(texts: string[]): Promise<number[][]> {
    return this.inner.embedDocuments(texts);
  }
}
