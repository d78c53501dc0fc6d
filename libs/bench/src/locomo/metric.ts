/**
 * The LoCoMo retrieval metric (README of the dataset): per question of categories 1-4,
 * recall@k = |evidence ∩ top-k| / |evidence| and hit@k = 1 if any evidence turn is in the top k,
 * both on sets; averaged over questions, per category and overall. Also the context cost of the
 * top k: the characters of their texts divided by 4 ("tokens").
 */
import { CATEGORY_IDS, type Category } from "./data.js";

export const DEFAULT_KS = [5, 10, 25] as const;

/** Cost in tokens of a text, as the README counts them: characters / 4. */
export function tokensOf(text: string): number {
  return text.length / 4;
}

/** The first k distinct ids of a ranking (a system may return the same turn twice). */
export function topK(ranked: readonly string[], k: number): string[] {
  const seen = new Set<string>();
  for (const id of ranked) {
    if (seen.size >= k) break;
    seen.add(id);
  }
  return [...seen];
}

/** |evidence ∩ top-k| / |evidence|, on sets. NaN when there is no evidence (such questions are skipped). */
export function recallAt(evidence: readonly string[], ranked: readonly string[], k: number): number {
  const wanted = new Set(evidence);
  if (wanted.size === 0) return Number.NaN;
  let found = 0;
  for (const id of topK(ranked, k)) if (wanted.has(id)) found++;
  return found / wanted.size;
}

/** 1 if any evidence id is in the top k, else 0. */
export function hitAt(evidence: readonly string[], ranked: readonly string[], k: number): number {
  const wanted = new Set(evidence);
  return topK(ranked, k).some((id) => wanted.has(id)) ? 1 : 0;
}

/** Scores of one question at every k. */
export interface QuestionScore {
  category: Category;
  /** By k. */
  recall: Record<number, number>;
  hit: Record<number, number>;
  tokens: Record<number, number>;
}

/**
 * Scores one ranking. `textOf` gives the text a turn costs in the context (unknown ids cost 0
 * and never match evidence, which only holds known ids).
 */
export function scoreQuestion(
  category: Category,
  evidence: readonly string[],
  ranked: readonly string[],
  textOf: (diaId: string) => string | undefined,
  ks: readonly number[] = DEFAULT_KS,
): QuestionScore {
  const score: QuestionScore = { category, recall: {}, hit: {}, tokens: {} };
  for (const k of ks) {
    score.recall[k] = recallAt(evidence, ranked, k);
    score.hit[k] = hitAt(evidence, ranked, k);
    score.tokens[k] = topK(ranked, k).reduce((sum, id) => sum + tokensOf(textOf(id) ?? ""), 0);
  }
  return score;
}

/** Means over a group of questions. */
export interface GroupScores {
  questions: number;
  /** Mean recall@k, by k, as a fraction 0..1. */
  recall: Record<number, number>;
  hit: Record<number, number>;
  /** Mean tokens of the top k, by k. */
  tokens: Record<number, number>;
}

export interface Scores {
  overall: GroupScores;
  byCategory: Record<Category, GroupScores>;
}

function meanGroup(scores: readonly QuestionScore[], ks: readonly number[]): GroupScores {
  const n = scores.length;
  const mean = (pick: (s: QuestionScore) => number) => (n === 0 ? Number.NaN : scores.reduce((sum, s) => sum + pick(s), 0) / n);
  const group: GroupScores = { questions: n, recall: {}, hit: {}, tokens: {} };
  for (const k of ks) {
    group.recall[k] = mean((s) => s.recall[k]!);
    group.hit[k] = mean((s) => s.hit[k]!);
    group.tokens[k] = mean((s) => s.tokens[k]!);
  }
  return group;
}

/** Averages question scores per category and overall (every question weighs the same). */
export function aggregate(scores: readonly QuestionScore[], ks: readonly number[] = DEFAULT_KS): Scores {
  const byCategory = {} as Record<Category, GroupScores>;
  for (const category of CATEGORY_IDS) {
    byCategory[category] = meanGroup(
      scores.filter((s) => s.category === category),
      ks,
    );
  }
  return { overall: meanGroup(scores, ks), byCategory };
}
