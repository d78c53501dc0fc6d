/**
 * Pseudo-relevance feedback for the lexical side of recall (RM3-style, no model): the words that
 * the best first-pass memories share, and the question lacks, become a second BM25 query. A
 * question asks "What does Caroline do to destress?"; the turns that answer it say "painting" and
 * "running", which the first pass's best matches often mention beside the question's own words.
 */
import { tokenize } from "./tokenize.js";

export interface FeedbackDocument {
  text: string;
  /** How much the first pass trusts it (its score); only relative sizes matter. */
  weight: number;
}

/**
 * The `count` terms (stemmed, as the lexical index holds them) that best describe the feedback
 * documents and are not in the query, each with its weight (the best is 1): the relevance model
 * `sum_d P(t|d) * w(d)`, with `P(t|d)` the term's share of the document's terms and `w(d)` the
 * document's weight over all the documents' weights.
 */
export function expansionTerms(query: string, documents: readonly FeedbackDocument[], count = 10): Array<[string, number]> {
  const asked = new Set(tokenize(query));
  const total = documents.reduce((sum, d) => sum + Math.max(0, d.weight), 0);
  if (total <= 0 || count <= 0) return [];
  const model = new Map<string, number>();
  for (const document of documents) {
    const terms = tokenize(document.text);
    if (terms.length === 0 || !(document.weight > 0)) continue;
    const share = Math.max(0, document.weight) / total / terms.length;
    for (const term of terms) if (!asked.has(term)) model.set(term, (model.get(term) ?? 0) + share);
  }
  const best = [...model].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, count);
  const top = best[0]?.[1] ?? 0;
  return top > 0 ? best.map(([term, weight]) => [term, weight / top]) : [];
}
