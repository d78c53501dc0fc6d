import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import MiniSearch from "minisearch";
import { LexicalIndex } from "./lexical_index.js";
import { tokenize } from "./tokenize.js";

/**
 * The reference: MiniSearch 7 configured as the index was before it replaced it (same tokenizer,
 * BM25 k1 1.2 / b 0.75 / d 0, OR), vacuumed before each query (a removed document leaves its
 * postings only then; see lexical_index.ts).
 */
function reference(): MiniSearch<{ id: string; text: string }> {
  return new MiniSearch<{ id: string; text: string }>({
    fields: ["text"],
    idField: "id",
    tokenize,
    processTerm: (term) => term,
    searchOptions: { bm25: { k: 1.2, b: 0.75, d: 0 }, combineWith: "OR" },
    autoVacuum: false,
  });
}

// Few words, so that documents share terms, repeat them, and tie; stop words and stems included.
const WORDS = "the painting paint painted run running runs park beach kids cat cats sunset my and Caroline Melanie 7 May 2023 love loved".split(" ");
const text = fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }).map((words) => words.join(" "));
const op = fc.oneof(
  fc.record({ kind: fc.constant("upsert" as const), id: fc.nat({ max: 25 }), text }),
  fc.record({ kind: fc.constant("remove" as const), id: fc.nat({ max: 25 }) }),
);

describe("LexicalIndex", () => {
  it("ranks exactly as MiniSearch: same ids, same order (ties included), same scores, after random upserts and removals", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), fc.array(text, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 30 }), async (ops, queries, limit) => {
        const index = new LexicalIndex();
        const mini = reference();
        for (const o of ops) {
          const id = `m${o.id}`;
          if (o.kind === "upsert") {
            index.upsert([{ id, text: o.text }]);
            if (mini.has(id)) mini.discard(id);
            mini.add({ id, text: o.text });
          } else {
            index.remove([id]);
            if (mini.has(id)) mini.discard(id);
          }
        }
        await mini.vacuum();
        expect(index.size).toBe(mini.documentCount);
        for (const query of queries) {
          const expected = tokenize(query).length === 0 ? [] : mini.search(query).slice(0, limit).map((hit) => ({ id: String(hit.id), score: hit.score }));
          expect(index.query(query, limit)).toEqual(expected);
          // Weighted terms (pseudo-relevance feedback), a repeated term included.
          const terms = tokenize(query).map((term, i): [string, number] => [term, 1 / (i + 1)]);
          const weights = new Map(terms);
          const expectedTerms =
            terms.length === 0
              ? []
              : mini
                  .search(terms.map(([term]) => term).join(" "), { tokenize: (t) => t.split(" "), boostTerm: (term) => weights.get(term) ?? 0 })
                  .slice(0, limit)
                  .map((hit) => ({ id: String(hit.id), score: hit.score }));
          expect(index.queryTerms(terms, limit)).toEqual(expectedTerms);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("finds a replaced document by its new text only, and nothing once it is removed", () => {
    const index = new LexicalIndex();
    index.upsert([
      { id: "a", text: "Caroline went to the beach" },
      { id: "b", text: "Melanie paints sunsets" },
    ]);
    expect(index.query("beach", 5).map((hit) => hit.id)).toEqual(["a"]);
    index.upsert([{ id: "a", text: "Caroline paints too" }]);
    expect(index.query("beach", 5)).toEqual([]);
    expect(index.query("paint", 5).map((hit) => hit.id).sort()).toEqual(["a", "b"]);
    index.remove(["a", "missing"]);
    expect(index.has("a")).toBe(false);
    expect(index.size).toBe(1);
    expect(index.query("the and", 5)).toEqual([]);
  });
});
