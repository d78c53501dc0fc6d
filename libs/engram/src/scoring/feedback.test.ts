import { describe, expect, it } from "@jest/globals";
import { expansionTerms } from "./feedback.js";
import { LexicalIndex } from "./lexical_index.js";
import { tokenize } from "./tokenize.js";

describe("expansionTerms (pseudo-relevance feedback)", () => {
  it("weighs the terms the trusted documents share, leaving out the query's own", () => {
    const terms = expansionTerms("how does Caroline destress", [
      { text: "Caroline: painting helps me destress, painting and running", weight: 2 },
      { text: "Caroline: running in the park clears my head", weight: 1 },
      { text: "Melanie: my kids love the beach", weight: 0 },
    ]);
    const names = terms.map(([t]) => t);
    expect(names).not.toContain(tokenize("Caroline")[0]);
    expect(names).not.toContain(tokenize("destress")[0]);
    expect(names).not.toContain(tokenize("beach")[0]);
    // "painting" twice in the best document: first, with weight 1; "running" in both, next.
    expect(terms[0]).toEqual([tokenize("painting")[0], 1]);
    expect(names[1]).toBe(tokenize("running")[0]);
    expect(terms[1]![1]).toBeLessThan(1);
  });

  it("returns nothing without trusted documents", () => {
    expect(expansionTerms("q", [])).toEqual([]);
    expect(expansionTerms("q", [{ text: "words here", weight: 0 }])).toEqual([]);
  });

  it("queries the lexical index with weighted, already stemmed terms", () => {
    const index = new LexicalIndex();
    index.upsert([
      { id: "a", text: "I love painting sunsets" },
      { id: "b", text: "Running every morning" },
      { id: "c", text: "nothing relevant" },
    ]);
    const hits = index.queryTerms([[tokenize("painting")[0]!, 1], [tokenize("running")[0]!, 0.2]], 10);
    expect(hits.map((h) => h.id)).toEqual(["a", "b"]);
    const flipped = index.queryTerms([[tokenize("painting")[0]!, 0.2], [tokenize("running")[0]!, 1]], 10);
    expect(flipped.map((h) => h.id)).toEqual(["b", "a"]);
    expect(index.queryTerms([], 10)).toEqual([]);
  });
});
