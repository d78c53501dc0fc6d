import { describe, expect, it } from "@jest/globals";
import type { ScoredMemory } from "../../core/types.js";
import { jaccard, selectMemories } from "./select.js";

function memory(id: string, content: string, score: number): ScoredMemory {
  return {
    id,
    scope: { userId: "u" },
    kind: "fact",
    content,
    importance: 0.5,
    createdAt: 0,
    updatedAt: 0,
    lastAccessedAt: 0,
    source: {},
    metadata: {},
    score,
    scoreParts: { relevance: score, lexical: 0, recency: 1, importance: 0.5, neighbour: 0 },
  };
}

/** One token per word, so budgets in these tests are word counts. */
const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

describe("selectMemories", () => {
  const ranked = [
    memory("a", "Alice is allergic to peanuts.", 0.9),
    memory("b", "The user Alice is ALLERGIC to peanuts!", 0.85),
    memory("c", "Alice runs marathons in the spring and trains every single morning before work.", 0.7),
    memory("d", "Alice likes jazz.", 0.6),
    memory("e", "Alice has a cat.", 0.5),
  ];

  it("drops a near duplicate of a better result and keeps rank order", () => {
    const { kept, duplicates } = selectMemories(ranked, { k: 3, dedupeThreshold: 0.75, countTokens: words });
    expect(kept.map((m) => m.id)).toEqual(["a", "c", "d"]);
    expect(duplicates).toBe(1);
  });

  it("keeps the near duplicate when the threshold asks for identical words", () => {
    const { kept } = selectMemories(ranked, { k: 3, dedupeThreshold: 1, countTokens: words });
    expect(kept.map((m) => m.id)).toEqual(["a", "b", "c"]);
  });

  it("skips what does not fit the token budget for smaller results further down", () => {
    const { kept, overBudget } = selectMemories(ranked, { k: 4, maxTokens: 12, dedupeThreshold: 0.75, countTokens: words });
    // a (5) + d (3) + e (4) = 12; c (13) does not fit.
    expect(kept.map((m) => m.id)).toEqual(["a", "d", "e"]);
    expect(overBudget).toBe(1);
    expect(kept.reduce((sum, m) => sum + words(m.content), 0)).toBeLessThanOrEqual(12);
  });

  it("returns nothing when even the best does not fit, and at most k", () => {
    expect(selectMemories(ranked, { k: 4, maxTokens: 2, dedupeThreshold: 0.75, countTokens: words }).kept).toEqual([]);
    expect(selectMemories(ranked, { k: 1, dedupeThreshold: 0.75, countTokens: words }).kept.map((m) => m.id)).toEqual(["a"]);
  });
});

describe("jaccard", () => {
  it("compares stemmed content words, and never calls word-less texts alike", () => {
    expect(jaccard(new Set(["a", "b"]), new Set(["b", "c"]))).toBeCloseTo(1 / 3);
    expect(jaccard(new Set(["a"]), new Set(["a"]))).toBe(1);
    expect(jaccard(new Set(), new Set())).toBe(0);
  });
});
