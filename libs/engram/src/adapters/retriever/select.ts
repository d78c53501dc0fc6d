import type { ScoredMemory } from "../../core/types.js";
import { tokenize } from "../../scoring/tokenize.js";

/** How `selectMemories` picks from ranked memories. */
export interface SelectOptions {
  /** Keep at most this many. */
  k: number;
  /** Token budget of the kept texts together; undefined for none. */
  maxTokens?: number;
  /** Token Jaccard similarity at or above which a memory repeats a better one and is dropped. */
  dedupeThreshold: number;
  /** Tokens of a text. */
  countTokens: (text: string) => number;
}

/** What was kept, and why the others were not (for callers that explain their context). */
export interface Selection {
  kept: ScoredMemory[];
  duplicates: number;
  overBudget: number;
}

/**
 * Picks from memories ranked best first: a memory that says nearly the same as one already kept
 * (token Jaccard at or above `dedupeThreshold`, over stemmed content words, so "User likes
 * Python." and "the user LIKES python" meet) is dropped, and a memory that does not fit in what
 * is left of the token budget is skipped for a smaller one further down, until `k` are kept.
 * Pure: the same input gives the same selection.
 */
export function selectMemories(ranked: readonly ScoredMemory[], options: SelectOptions): Selection {
  const kept: ScoredMemory[] = [];
  const keptTokens: Array<Set<string>> = [];
  let used = 0;
  let duplicates = 0;
  let overBudget = 0;
  for (const memory of ranked) {
    if (kept.length >= options.k) break;
    const tokens = new Set(tokenize(memory.content));
    if (keptTokens.some((other) => jaccard(tokens, other) >= options.dedupeThreshold)) {
      duplicates += 1;
      continue;
    }
    if (options.maxTokens !== undefined) {
      const cost = options.countTokens(memory.content);
      if (used + cost > options.maxTokens) {
        overBudget += 1;
        continue;
      }
      used += cost;
    }
    kept.push(memory);
    keptTokens.push(tokens);
  }
  return { kept, duplicates, overBudget };
}

/**
 * |A ∩ B| / |A ∪ B|. Texts without content words ("Yes, I am.") score 0: words cannot tell them
 * apart, and exact copies are already dropped by the ranker.
 */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const token of a) if (b.has(token)) shared += 1;
  return shared / (a.size + b.size - shared);
}
