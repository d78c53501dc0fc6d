import MiniSearch from "minisearch";
import { tokenize } from "./tokenize.js";

/** BM25 parameters: the classic k1 = 1.2, b = 0.75 (MiniSearch's `d` = 0 turns BM25+ into BM25). */
const BM25 = { k: 1.2, b: 0.75, d: 0 };

export interface LexicalHit {
  id: string;
  score: number;
}

/**
 * A BM25 full-text index over one user's memories (MiniSearch, a maintained library), kept in
 * process next to the vector store: Chroma has no ranked full-text search.
 */
export class LexicalIndex {
  private readonly search = new MiniSearch<{ id: string; text: string }>({
    fields: ["text"],
    idField: "id",
    tokenize,
    // Terms are already normalized by tokenize().
    processTerm: (term) => term,
    searchOptions: { bm25: BM25, combineWith: "OR" },
  });

  get size(): number {
    return this.search.documentCount;
  }

  /** Adds or replaces documents. */
  upsert(docs: Array<{ id: string; text: string }>): void {
    for (const doc of docs) {
      if (this.search.has(doc.id)) this.search.discard(doc.id);
      this.search.add(doc);
    }
  }

  remove(ids: string[]): void {
    for (const id of ids) if (this.search.has(id)) this.search.discard(id);
  }

  has(id: string): boolean {
    return this.search.has(id);
  }

  /** Best matches first. */
  query(text: string, limit: number): LexicalHit[] {
    if (tokenize(text).length === 0) return [];
    return this.search
      .search(text)
      .slice(0, limit)
      .map((hit) => ({ id: String(hit.id), score: hit.score }));
  }

  /**
   * Best matches first for already-tokenized terms, each weighing its own share of the score (the
   * expansion terms of pseudo-relevance feedback, see scoring/feedback.ts).
   */
  queryTerms(terms: ReadonlyArray<readonly [string, number]>, limit: number): LexicalHit[] {
    if (terms.length === 0) return [];
    const weights = new Map(terms);
    return this.search
      .search(terms.map(([term]) => term).join(" "), {
        tokenize: (text) => text.split(" "),
        boostTerm: (term) => weights.get(term) ?? 0,
      })
      .slice(0, limit)
      .map((hit) => ({ id: String(hit.id), score: hit.score }));
  }
}
