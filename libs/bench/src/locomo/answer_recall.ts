/**
 * Answer recall: an answer-level figure that needs no LLM. For one question, the share of the gold
 * answer's tokens found in the texts of the top-k retrieved turns, with LoCoMo's own answer
 * normalization (task_eval/evaluation.py: commas dropped, lowercase, ASCII punctuation stripped,
 * "a", "an", "the", "and" removed, Porter stems). It is the recall half of LoCoMo's token F1 with
 * the top-k texts as the "prediction": an upper bound on what a reader model could copy from the
 * context, where R@k only says whether the annotated turn was there.
 *
 * Counted as in that F1: each gold token occurrence is matched at most as often as it occurs in
 * the retrieved texts (multiset intersection).
 */
import { stemmer } from "stemmer";
import { CATEGORY_IDS, type Category } from "./data.js";
import { topK } from "./metric.js";

/** Python's `string.punctuation`, which LoCoMo's normalization strips (ASCII only, as there). */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
const ARTICLES = /\b(a|an|the|and)\b/g;

/** LoCoMo's `normalize_answer`: the steps in its order. */
export function normalizeAnswer(text: string): string {
  const lowered = text.replace(/,/g, "").toLowerCase();
  return lowered.replace(PUNCTUATION, "").replace(ARTICLES, " ").split(/\s+/).filter(Boolean).join(" ");
}

/** The normalized, Porter-stemmed tokens LoCoMo's F1 compares. */
export function answerTokens(text: string): string[] {
  const normalized = normalizeAnswer(text);
  return normalized === "" ? [] : normalized.split(" ").map((token) => stemmer(token));
}

function counts(tokens: readonly string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const token of tokens) map.set(token, (map.get(token) ?? 0) + 1);
  return map;
}

/**
 * Share (0..1) of the answer's tokens found in `texts`. NaN when the answer has no token after
 * normalization (such questions are left out of the means).
 */
export function answerRecall(answer: string, texts: readonly string[]): number {
  const gold = answerTokens(answer);
  if (gold.length === 0) return Number.NaN;
  const found = counts(texts.flatMap(answerTokens));
  let matched = 0;
  for (const [token, n] of counts(gold)) matched += Math.min(n, found.get(token) ?? 0);
  return matched / gold.length;
}

/** Answer recall at every k, from one ranking (the first k distinct ids, as R@k reads them). */
export function answerRecallAt(
  answer: string,
  ranked: readonly string[],
  textOf: (id: string) => string | undefined,
  ks: readonly number[],
): Record<number, number> {
  const out: Record<number, number> = {};
  for (const k of ks) out[k] = answerRecall(answer, topK(ranked, k).map((id) => textOf(id) ?? ""));
  return out;
}

/** Mean answer recall by k, overall and per category; `questions` counts those with a scorable answer. */
export interface AnswerRecallScores {
  overall: { questions: number; recall: Record<number, number> };
  byCategory: Record<Category, { questions: number; recall: Record<number, number> }>;
}

function mean(items: ReadonlyArray<{ recall: Record<number, number> }>, ks: readonly number[]) {
  const scored = items.filter((item) => ks.every((k) => Number.isFinite(item.recall[k])));
  const recall: Record<number, number> = {};
  for (const k of ks) recall[k] = scored.length === 0 ? Number.NaN : scored.reduce((sum, item) => sum + item.recall[k]!, 0) / scored.length;
  return { questions: scored.length, recall };
}

/** Averages per-question answer recall per category and overall (each scorable question weighs the same). */
export function aggregateAnswerRecall(
  items: ReadonlyArray<{ category: Category; recall: Record<number, number> }>,
  ks: readonly number[],
): AnswerRecallScores {
  const byCategory = {} as AnswerRecallScores["byCategory"];
  for (const category of CATEGORY_IDS) byCategory[category] = mean(items.filter((item) => item.category === category), ks);
  return { overall: mean(items, ks), byCategory };
}
