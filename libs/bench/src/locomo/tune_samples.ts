/**
 * The format of `tune-samples.json`: what tune.ts writes (each question with its candidate turns
 * scored under both embedding models) and static_cv.ts reads back.
 */
import type { Category } from "./data.js";

/** One candidate turn of a question, with the parts the ranker combines. */
export interface Turn {
  diaId: string;
  content: string;
  createdAt: number;
  importance: number;
  /** Engram's BM25 part (normalized by the best match over all the user's turns). */
  lexical: number;
  cosStatic: number;
  cosUse: number;
}

/** One question of the dev conversations and its candidates. */
export interface Sample {
  conv: string;
  category: Category;
  query: string;
  evidence: string[];
  now: number;
  turns: Turn[];
}
