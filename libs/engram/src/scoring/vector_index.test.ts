import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { VectorIndex } from "./vector_index.js";

const DIMS = 6;
const vector = fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: DIMS, maxLength: DIMS }).filter((v) => v.some((x) => Math.abs(x) > 1e-3));

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((sum, x, i) => sum + x * b[i]!, 0);
  return dot / Math.hypot(...a) / Math.hypot(...b);
}

describe("VectorIndex", () => {
  it("returns the same top k as sorting every cosine, after random upserts and removals", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 30 }), vector), { minLength: 1, maxLength: 60 }),
        fc.array(fc.nat({ max: 30 }), { maxLength: 15 }),
        vector,
        fc.integer({ min: 1, max: 10 }),
        (writes, removals, query, k) => {
          const index = new VectorIndex();
          const model = new Map<string, number[]>();
          for (const [n, v] of writes) {
            index.upsert(`m${n}`, v);
            model.set(`m${n}`, v);
          }
          for (const n of removals) {
            index.remove(`m${n}`);
            model.delete(`m${n}`);
          }
          expect(index.size).toBe(model.size);
          const expected = [...model].map(([id, v]) => ({ id, similarity: cosine(query, v) })).sort((a, b) => b.similarity - a.similarity);
          const got = index.nearest(query, k);
          expect(got.length).toBe(Math.min(k, model.size));
          got.forEach((hit, i) => {
            // Float32 storage: compare scores, not ids (ties may order either way).
            expect(hit.similarity).toBeCloseTo(expected[i]!.similarity, 4);
            expect(hit.similarity).toBeCloseTo(cosine(query, model.get(hit.id)!), 4);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("skips ids the filter refuses, and scores one id on request", () => {
    const index = new VectorIndex();
    index.upsert("a", [1, 0]);
    index.upsert("b", [0.9, 0.1]);
    index.upsert("c", [0, 1]);
    expect(index.nearest([1, 0], 2, (id) => id !== "a").map((hit) => hit.id)).toEqual(["b", "c"]);
    expect(index.similarity([0, 2], "c")).toBeCloseTo(1, 6);
    expect(index.similarity([0, 2], "gone")).toBeUndefined();
    expect(() => index.upsert("d", [1, 0, 0])).toThrow(/dimensions/);
  });
});
