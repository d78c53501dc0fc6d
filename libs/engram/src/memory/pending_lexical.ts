/**
 * BM25 of queued (not yet stored) memories against a user's stored ones, so the ranker weighs a
 * queued memory's lexical match on the same scale as the stored memories' (recall.ts gets theirs
 * from the user's `LexicalIndex`, scoring/lexical_index.ts).
 */
import { tokenize } from "../scoring/tokenize.js";

/** scoring/lexical_index.ts's parameters (k1 = 1.2, b = 0.75, plain BM25). */
const K1 = 1.2;
const B = 0.75;

/** A document as BM25 sees it: term frequencies and length (distinct terms, as `LexicalIndex` counts it). */
interface Doc {
  tf: Map<string, number>;
  length: number;
}

function docOf(text: string): Doc {
  const tf = new Map<string, number>();
  for (const term of tokenize(text)) tf.set(term, (tf.get(term) ?? 0) + 1);
  return { tf, length: tf.size };
}

/**
 * Document frequencies and lengths of one user's stored memories, kept current by the user's index
 * once built (it is built only when a search has queued memories to score).
 */
export class LexicalStats {
  private readonly df = new Map<string, number>();
  private docs = 0;
  private totalLength = 0;

  add(text: string): void {
    const doc = docOf(text);
    this.docs += 1;
    this.totalLength += doc.length;
    for (const term of doc.tf.keys()) this.df.set(term, (this.df.get(term) ?? 0) + 1);
  }

  remove(text: string): void {
    const doc = docOf(text);
    this.docs -= 1;
    this.totalLength -= doc.length;
    for (const term of doc.tf.keys()) {
      const n = (this.df.get(term) ?? 1) - 1;
      if (n > 0) this.df.set(term, n);
      else this.df.delete(term);
    }
  }

  /**
   * The BM25 score of each text against `query`, as `LexicalIndex` scores a stored memory (the sum over
   * the query's terms, times the number of distinct query terms matched), with the texts counted
   * into the corpus beside the stored memories. A stored version that a queued one replaces stays
   * counted: a few documents of difference, for the seconds a write waits in the queue.
   */
  score(query: string, texts: readonly string[]): number[] {
    const terms = tokenize(query);
    if (terms.length === 0 || texts.length === 0) return texts.map(() => 0);
    const docs = texts.map(docOf);
    const n = this.docs + docs.length;
    const avgLength = (this.totalLength + docs.reduce((sum, doc) => sum + doc.length, 0)) / n || 1;
    const idf = new Map<string, number>();
    for (const term of new Set(terms)) {
      const matching = (this.df.get(term) ?? 0) + docs.filter((doc) => doc.tf.has(term)).length;
      idf.set(term, Math.log(1 + (n - matching + 0.5) / (matching + 0.5)));
    }
    return docs.map((doc) => {
      let sum = 0;
      const matched = new Set<string>();
      for (const term of terms) {
        const tf = doc.tf.get(term);
        if (tf === undefined) continue;
        matched.add(term);
        sum += idf.get(term)! * ((tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * doc.length) / avgLength)));
      }
      return sum * matched.size;
    });
  }
}
