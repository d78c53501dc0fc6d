import { tokenize } from "./tokenize.js";

/** BM25 parameters: the classic k1 = 1.2, b = 0.75 (`d` = 0: plain BM25, not BM25+). */
const BM25 = { k: 1.2, b: 0.75, d: 0 };

export interface LexicalHit {
  id: string;
  score: number;
}

/** A document as the index keeps it: its distinct terms (to unindex it) and its length. */
interface Doc {
  terms: string[];
  /** Distinct terms of the text, the length BM25 normalizes by. */
  length: number;
}

/**
 * A BM25 full-text index over one user's memories, kept in process next to the vector store:
 * Chroma has no ranked full-text search.
 *
 * It scores exactly as MiniSearch 7 (the library it replaced on the turn's path, which the tests use
 * as the reference) with `fields: ["text"]`, this module's tokenizer and `combineWith: "OR"`: the
 * same idf, the same length (distinct terms) and running average, the per-term sum times the number
 * of distinct query terms matched, and ties in the same order (first query term's postings in
 * insertion order, then the new documents of each next term). What it leaves out is what the turn
 * paid for and never used: a result object per matching document with its matched terms and fields,
 * a radix tree for prefix and fuzzy search, and the tokenizer run twice per query. One difference:
 * a removed document leaves MiniSearch's postings only when vacuumed, and until then MiniSearch
 * counts it in a term's document frequency; here it leaves at once (MiniSearch after a vacuum).
 */
export class LexicalIndex {
  /** Each term's documents and term frequencies, in the order the documents were added. */
  private readonly postings = new Map<string, Map<string, number>>();
  private readonly docs = new Map<string, Doc>();
  /** Mean document length, updated as MiniSearch updates it (the same float operations). */
  private averageLength = 0;

  get size(): number {
    return this.docs.size;
  }

  /** Adds or replaces documents. */
  upsert(docs: Array<{ id: string; text: string }>): void {
    for (const doc of docs) {
      this.removeOne(doc.id);
      this.add(doc.id, doc.text);
    }
  }

  remove(ids: string[]): void {
    for (const id of ids) this.removeOne(id);
  }

  has(id: string): boolean {
    return this.docs.has(id);
  }

  /** Best matches first. */
  query(text: string, limit: number): LexicalHit[] {
    const terms = tokenize(text);
    if (terms.length === 0) return [];
    return this.rank(terms, () => 1, limit);
  }

  /**
   * Best matches first for already-tokenized terms, each weighing its own share of the score (the
   * expansion terms of pseudo-relevance feedback, see scoring/feedback.ts).
   */
  queryTerms(terms: ReadonlyArray<readonly [string, number]>, limit: number): LexicalHit[] {
    if (terms.length === 0) return [];
    const weights = new Map(terms);
    // As the terms reached MiniSearch: joined by spaces and split again, empty ones dropped.
    const split = terms
      .map(([term]) => term)
      .join(" ")
      .split(" ")
      .filter((term) => term !== "");
    return this.rank(split, (term) => weights.get(term) ?? 0, limit);
  }

  private add(id: string, text: string): void {
    const tokens = tokenize(text);
    const frequencies = new Map<string, number>();
    for (const token of tokens) {
      if (token === "") continue;
      frequencies.set(token, (frequencies.get(token) ?? 0) + 1);
    }
    const length = new Set(tokens).size;
    const count = this.docs.size;
    this.averageLength = (this.averageLength * count + length) / (count + 1);
    for (const [term, frequency] of frequencies) {
      let posting = this.postings.get(term);
      if (!posting) this.postings.set(term, (posting = new Map()));
      posting.set(id, frequency);
    }
    this.docs.set(id, { terms: [...frequencies.keys()], length });
  }

  private removeOne(id: string): void {
    const doc = this.docs.get(id);
    if (!doc) return;
    const count = this.docs.size;
    this.averageLength = count === 1 ? 0 : (this.averageLength * count - doc.length) / (count - 1);
    for (const term of doc.terms) {
      const posting = this.postings.get(term)!;
      posting.delete(id);
      if (posting.size === 0) this.postings.delete(term);
    }
    this.docs.delete(id);
  }

  /** Sum over `terms` (repeats count again) of boost * BM25, times the distinct terms matched. */
  private rank(terms: readonly string[], boost: (term: string) => number, limit: number): LexicalHit[] {
    const total = this.docs.size;
    const scores = new Map<string, { score: number; matched: number }>();
    const seen = new Set<string>();
    for (const term of terms) {
      const posting = this.postings.get(term);
      if (!posting) continue;
      // A repeated term adds its score again but is one matched term (MiniSearch's "quality").
      const repeated = seen.has(term);
      seen.add(term);
      const termBoost = boost(term);
      const matching = posting.size;
      const idf = Math.log(1 + (total - matching + 0.5) / (matching + 0.5));
      for (const [id, frequency] of posting) {
        const length = this.docs.get(id)!.length;
        const raw = idf * (BM25.d + (frequency * (BM25.k + 1)) / (frequency + BM25.k * (1 - BM25.b + (BM25.b * length) / this.averageLength)));
        const weighted = termBoost * raw;
        const entry = scores.get(id);
        if (entry === undefined) scores.set(id, { score: weighted, matched: 1 });
        else {
          entry.score += weighted;
          // A repeated term's documents were all matched by its first occurrence.
          if (!repeated) entry.matched += 1;
        }
      }
    }
    const hits: LexicalHit[] = [];
    for (const [id, { score, matched }] of scores) hits.push({ id, score: score * matched });
    // Stable: equal scores keep the order above, as MiniSearch's sort does.
    hits.sort((a, b) => b.score - a.score);
    return hits.length > limit ? hits.slice(0, limit) : hits;
  }
}
