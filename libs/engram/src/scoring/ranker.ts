import { EngramError } from "../core/errors.js";
import type { MemoryRecord } from "../core/types.js";
import { describeValue } from "../core/describe.js";
import { boostBySession, weighBySpeaker } from "./context.js";
import { boostByDates } from "./dates.js";
import { stripUndefined, validateOptionObject } from "../core/validate.js";

/**
 * Weights of the recall ranker. The final score is the weighted mean of four parts, each in 0..1,
 * so it stays in 0..1 (the date and session boosts after it keep it there). Defaults suit the default
 * embeddings (`LocalEmbeddings`, USE-Lite): `spread`, `lexical`, `neighbour`, `recency`, `dates` and
 * `session` are what leave-one-conversation-out cross-validation on the LoCoMo dev half chooses for
 * it (`importance` cannot be fitted there: every turn has the same) (docs/benchmarks.md has the held-out figures and the ablation). The static
 * model reads a bag of pieces, and the same procedure leans more on BM25 for it:
 * {@link STATIC_RANKER}, which `Memory` uses by default with `StaticEmbeddings`.
 */
export interface RankerOptions {
  /** Semantic similarity of query and memory (cosine of their embeddings). @default 1 */
  relevance?: number;
  /**
   * How the cosine becomes the relevance part. 0: the cosine itself (negative counts as 0). Above
   * 0: the cosine standardized over the query's candidates, `0.5 + z / spread` clipped to 0..1
   * (z: standard deviations from the candidates' mean cosine), so that a model whose cosines crowd
   * into a narrow band separates its candidates as much as one whose cosines spread, and weighs the
   * same against the lexical part. No model Engram ships needs it today (the static table's first
   * version did).
   * @default 0
   */
  spread?: number;
  /**
   * Lexical match: BM25 over the user's memories, divided by the best BM25 score among the
   * candidates. Catches names, numbers and rare words that sentence embeddings blur.
   * @default 0.6 (4 with `StaticEmbeddings`: a bag of pieces adds less beside BM25)
   */
  lexical?: number;
  /**
   * Recency: `0.5 ^ (age / recencyHalfLifeMs)` since the memory was created. Off by default:
   * leave-one-conversation-out CV on LoCoMo chose 0 on every fold (0.02 cost 1 point of held-out
   * recall@10); set it when newer memories should win ties in your application.
   * @default 0
   */
  recency?: number;
  /** Half-life of the recency part, in milliseconds. @default 180 days */
  recencyHalfLifeMs?: number;
  /** The memory's stored importance (0..1). @default 0.1 */
  importance?: number;
  /**
   * Conversational context: a memory gains this share of the best query match (relevance and
   * lexical parts) among its neighbouring turns (the memories just before and after it in the same
   * thread) that are also candidates.
   * An answer often sits next to the turn that matches the question's words.
   * @default 0.3
   */
  neighbour?: number;
  /**
   * Time-aware recall: when the query names a date ("on 7 May 2023", "in June 2023", "last week"),
   * memories written on it, or whose text spoke of it ("yesterday", resolved when it was written),
   * gain this much times the date's rarity among the candidates (scoring/dates.ts).
   * @default 0.4 (chosen by cross-validation on LoCoMo, with `session`)
   */
  dates?: number;
  /**
   * Session context: a memory gains this share of the best score among the other candidates of
   * its thread (scoring/context.ts), so the turns of the session that the question is about
   * move up together.
   * @default 0.4 (chosen by cross-validation on LoCoMo)
   */
  session?: number;
  /**
   * Who said it: a turn the assistant said (role `"assistant"`) keeps this share of its score
   * (scoring/context.ts). What an assistant's turn holds about the user came from the user's own
   * turns, which it still lifts (the neighbour and session parts see its full match); ranked as an
   * equal, its questions and compliments ("Do you have a training plan?") come first whenever they
   * share the question's words. A design choice, not fitted: LoCoMo has no assistant turns. 1 turns
   * it off; at most 1.
   * @default 0.5
   */
  assistant?: number;
  /** How many candidates each retriever (vector, lexical) contributes before fusion. @default 100 */
  candidates?: number;
}

export type ResolvedRankerOptions = Required<RankerOptions>;

export const DEFAULT_RANKER: ResolvedRankerOptions = {
  relevance: 1,
  spread: 0,
  lexical: 0.6,
  recency: 0,
  recencyHalfLifeMs: 180 * 24 * 3_600_000,
  importance: 0.1,
  neighbour: 0.3,
  dates: 0.4,
  session: 0.4,
  assistant: 0.5,
  candidates: 100,
};

/**
 * The defaults for `StaticEmbeddings` (`engram-static-use-lite@3`), chosen the same way on that
 * model's vectors: every fold of five chose these (docs/embeddings.md).
 */
export const STATIC_RANKER: ResolvedRankerOptions = { ...DEFAULT_RANKER, lexical: 4 };

/** `base` holds the defaults the options fill in (the model's own, see {@link STATIC_RANKER}). */
export function resolveRanker(options: RankerOptions = {}, base: ResolvedRankerOptions = DEFAULT_RANKER): ResolvedRankerOptions {
  // A weight it does not know is refused, as search's per-call ranker refuses it: a Memory built
  // with { recncy: 0.5 } ranked without it, and a retriever built with one failed every call.
  validateOptionObject(options, "ranker", Object.keys(DEFAULT_RANKER), "{ recency: 0.1 }");
  const resolved = { ...base, ...stripUndefined(options) };
  for (const [key, value] of Object.entries(resolved)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new EngramError("INVALID_OPTIONS", `ranker.${key} must be a finite number of 0 or more, got ${describeValue(value)}.`);
    }
  }
  if (resolved.assistant > 1) {
    throw new EngramError("INVALID_OPTIONS", `ranker.assistant is the share of its score an assistant's turn keeps, at most 1; got ${resolved.assistant}.`);
  }
  if (resolved.recencyHalfLifeMs <= 0 || resolved.candidates < 1) {
    throw new EngramError("INVALID_OPTIONS", "ranker.recencyHalfLifeMs and ranker.candidates must be positive.");
  }
  return resolved;
}

export interface Candidate {
  record: MemoryRecord;
  /** Cosine similarity with the query, -1..1. */
  similarity: number;
  /** Raw BM25 score, 0 when the memory shares no term with the query. */
  lexical: number;
}

/** The parts of a ranked memory's score, for explanations and retriever metadata. */
export interface ScoreParts {
  relevance: number;
  lexical: number;
  recency: number;
  importance: number;
  /** Best query match (relevance and lexical parts) among neighbouring turns in the candidates. */
  neighbour: number;
}

export interface Ranked {
  record: MemoryRecord;
  score: number;
  parts: ScoreParts;
}

/**
 * Fuses candidates from the vector and lexical retrievers into one ranking, best first. Pure:
 * the same candidates, query, time and weights give the same order. Exact duplicates (same
 * content) keep only their best-ranked copy. `query` enables the date boost (`options.dates`).
 */
export function rankCandidates(
  candidates: Candidate[],
  now: number,
  options: ResolvedRankerOptions,
  neighboursOf?: (id: string) => string[],
  query?: string,
): Ranked[] {
  return finishRanking(scoreCandidates(candidates, now, options, neighboursOf), now, options, query);
}

/**
 * The second half of {@link rankCandidates}: the date boost (when the query names a date), the
 * session boost, the assistant's turns weighed down, then duplicates dropped. Apart so that a
 * replay can score once and vary these.
 */
export function finishRanking(scored: readonly Ranked[], now: number, options: ResolvedRankerOptions, query?: string): Ranked[] {
  const byDates = query === undefined ? [...scored] : boostByDates(query, scored, options.dates, now);
  // After the session boost: an assistant's turn still lifts its session with its full match.
  const bySpeaker = weighBySpeaker(boostBySession(byDates, options.session), options.assistant);
  const seen = new Set<string>();
  return bySpeaker.filter((item) => {
    const key = item.record.content.trim().toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The first half of {@link rankCandidates}: each candidate's fused score, best first. */
export function scoreCandidates(
  candidates: Candidate[],
  now: number,
  options: ResolvedRankerOptions,
  neighboursOf?: (id: string) => string[],
): Ranked[] {
  const maxLexical = candidates.reduce((max, c) => Math.max(max, c.lexical), 0);
  const relevanceOf = relevanceScale(candidates, options.spread);
  const total = options.relevance + options.lexical + options.recency + options.importance || 1;
  const ranked = candidates.map((candidate): Ranked => {
    const age = Math.max(0, now - candidate.record.createdAt);
    const parts: ScoreParts = {
      relevance: relevanceOf(candidate.similarity),
      lexical: maxLexical > 0 ? candidate.lexical / maxLexical : 0,
      recency: Math.pow(0.5, age / options.recencyHalfLifeMs),
      importance: candidate.record.importance,
      neighbour: 0,
    };
    const score =
      (options.relevance * parts.relevance +
        options.lexical * parts.lexical +
        options.recency * parts.recency +
        options.importance * parts.importance) /
      total;
    return { record: candidate.record, score, parts };
  });
  if (neighboursOf && options.neighbour > 0) {
    // A neighbour lends how well it matches the query, not its own recency or importance.
    const base = new Map(
      ranked.map((item) => [item.record.id, (options.relevance * item.parts.relevance + options.lexical * item.parts.lexical) / total]),
    );
    for (const item of ranked) {
      item.parts.neighbour = Math.max(0, ...neighboursOf(item.record.id).map((id) => base.get(id) ?? 0));
      item.score = (item.score + options.neighbour * item.parts.neighbour) / (1 + options.neighbour);
    }
  }
  ranked.sort((a, b) => b.score - a.score || b.record.createdAt - a.record.createdAt || a.record.id.localeCompare(b.record.id));
  return ranked;
}

/** The relevance part of each candidate's cosine (see `RankerOptions.spread`). */
function relevanceScale(candidates: readonly Candidate[], spread: number): (similarity: number) => number {
  if (spread <= 0 || candidates.length < 2) return (similarity) => Math.max(0, similarity);
  let sum = 0;
  for (const c of candidates) sum += c.similarity;
  const mean = sum / candidates.length;
  let squares = 0;
  for (const c of candidates) squares += (c.similarity - mean) ** 2;
  const sd = Math.sqrt(squares / candidates.length);
  // All candidates equally similar: nothing to separate, all sit in the middle.
  if (!(sd > 1e-9)) return () => 0.5;
  return (similarity) => Math.min(1, Math.max(0, 0.5 + (similarity - mean) / (spread * sd)));
}

/** Cosine similarity; 0 when either vector is zero (a missing component of `b` counts as 0). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i]!;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}
