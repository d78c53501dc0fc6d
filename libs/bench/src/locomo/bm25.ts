/**
 * Plain Okapi BM25 over an in-memory list of documents: the reference retriever of the LoCoMo
 * README (k1 1.2, b 0.75, lowercase `[a-z0-9]+` tokens). Kept small and explicit because it IS
 * the reference definition the harness must reproduce.
 */

/** Lowercase `[a-z0-9]+` tokens. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/**
 * IDF formulas in use:
 * - `lucene`: ln(1 + (N - n + 0.5) / (n + 0.5)), never negative (Lucene, Elasticsearch, bm25s default);
 * - `robertson`: ln((N - n + 0.5) / (n + 0.5)), negative for terms in more than half the documents;
 * - `okapi`: `robertson` with negative values floored at 0.25 × the mean IDF (the `rank_bm25` package's BM25Okapi).
 */
export type IdfVariant = "lucene" | "robertson" | "okapi";

export interface Bm25Options {
  k1?: number;
  b?: number;
  idf?: IdfVariant;
}

export class Bm25Index {
  private readonly k1: number;

  private readonly b: number;

  private readonly docs: Array<Map<string, number>>;

  private readonly lengths: number[];

  private readonly avgLength: number;

  private readonly idf = new Map<string, number>();

  constructor(texts: readonly string[], options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
    const variant = options.idf ?? "lucene";
    this.docs = texts.map((text) => {
      const tf = new Map<string, number>();
      for (const token of tokenize(text)) tf.set(token, (tf.get(token) ?? 0) + 1);
      return tf;
    });
    this.lengths = texts.map((text) => tokenize(text).length);
    const n = texts.length;
    this.avgLength = n === 0 ? 0 : this.lengths.reduce((a, b) => a + b, 0) / n;
    const df = new Map<string, number>();
    for (const doc of this.docs) for (const term of doc.keys()) df.set(term, (df.get(term) ?? 0) + 1);
    for (const [term, count] of df) {
      const ratio = (n - count + 0.5) / (count + 0.5);
      this.idf.set(term, variant === "lucene" ? Math.log(1 + ratio) : Math.log(ratio));
    }
    if (variant === "okapi" && df.size > 0) {
      const values = [...this.idf.values()];
      const floor = 0.25 * (values.reduce((a, b) => a + b, 0) / values.length);
      for (const [term, value] of this.idf) if (value < 0) this.idf.set(term, floor);
    }
  }

  /** Score of every document for the query (each query token counts, repeats included). */
  scores(query: string): number[] {
    const terms = tokenize(query).filter((t) => this.idf.has(t));
    return this.docs.map((tf, i) => {
      const norm = this.k1 * (1 - this.b + (this.b * this.lengths[i]!) / (this.avgLength || 1));
      let score = 0;
      for (const term of terms) {
        const f = tf.get(term);
        if (f) score += (this.idf.get(term)! * f * (this.k1 + 1)) / (f + norm);
      }
      return score;
    });
  }

  /** Indices of the k best documents, best first; ties keep document order. */
  top(query: string, k: number): number[] {
    const scores = this.scores(query);
    return scores
      .map((score, index) => ({ score, index }))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, k)
      .map((entry) => entry.index);
  }
}
