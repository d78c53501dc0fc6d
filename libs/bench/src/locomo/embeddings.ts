/**
 * Embeddings shared by the systems of one run, cached by text. The local model is deterministic
 * (batched and single embeddings agree to ~1e-7), so a text embedded once for `dense` need not be
 * embedded again for `engram` or its ablation rows: each row then costs seconds instead of minutes.
 */
import { LocalEmbeddings } from "engram";

/** The two methods engram (and LangChain) call on an embeddings object. */
export interface TextEmbedder {
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

export class CachedEmbeddings implements TextEmbedder {
  private readonly cache = new Map<string, number[]>();

  /** Texts embedded by the model / served from the cache. */
  readonly stats = { embedded: 0, cached: 0 };

  constructor(
    private readonly inner: TextEmbedder = new LocalEmbeddings(),
    private readonly enabled = true,
  ) {}

  /** Vectors computed earlier by the same model (a run's disk cache, see locomo/lab.ts), by text. */
  seed(entries: Iterable<readonly [string, number[]]>): void {
    for (const [text, vector] of entries) this.cache.set(text, vector);
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
}
