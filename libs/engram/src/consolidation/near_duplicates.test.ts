import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { COSINE_TOLERANCE, groupNearDuplicates } from "./near_duplicates.js";

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/** A seeded generator, so the 512-dimension cases are the same on every run. */
function gaussian(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 1) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function unit(values: number[]): number[] {
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
  return values.map((v) => v / norm);
}

/** A unit vector at exactly cosine `c` from unit vector `u`. */
function atCosine(u: number[], c: number, next: () => number): number[] {
  const r = u.map(() => next());
  const along = r.reduce((sum, v, i) => sum + v * u[i]!, 0);
  const w = unit(r.map((v, i) => v - along * u[i]!));
  return u.map((v, i) => c * v + Math.sqrt(1 - c * c) * w[i]!);
}

describe("groupNearDuplicates", () => {
  it("groups at or above the threshold, and only then, in 512 dimensions", () => {
    const next = gaussian(7);
    const base = unit(Array.from({ length: 512 }, next));
    const vectors = [base, atCosine(base, 0.97, next), atCosine(base, 0.951, next), atCosine(base, 0.94, next), unit(Array.from({ length: 512 }, next))];
    expect(Array.from(groupNearDuplicates(vectors, 0.95))).toEqual([0, 0, 0, 3, 4]);
    expect(Array.from(groupNearDuplicates(vectors, 0.96))).toEqual([0, 0, 2, 3, 4]);
  });

  it("matches identical vectors at a threshold of exactly 1, and scale does not matter", () => {
    const v = [0.1, 0.2, 0.3, 0.4, 0.5];
    expect(Array.from(groupNearDuplicates([v, v.map((x) => x * 3), [0.5, 0.4, 0.3, 0.2, 0.1]], 1))).toEqual([0, 0, 2]);
  });

  it("never groups through a chain: a member is similar to its own representative", () => {
    const deg = (d: number): number[] => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180), 0, 0];
    // 0 and 15 degrees are near (cos 0.966), 15 and 30 too, 0 and 30 are not (cos 0.866).
    expect(Array.from(groupNearDuplicates([deg(0), deg(15), deg(30)], 0.95))).toEqual([0, 0, 2]);
  });

  it("leaves empty, zero and wrong-sized vectors alone", () => {
    expect(Array.from(groupNearDuplicates([[], [1, 0], [0, 0], [1, 0, 0], [1, 0]], 0.9))).toEqual([0, 1, 2, 3, 1]);
    expect(Array.from(groupNearDuplicates([], 0.9))).toEqual([]);
  });

  it("is the greedy grouping by full cosine: the early bound never changes an answer", () => {
    const next = gaussian(11);
    const bases = Array.from({ length: 4 }, () => unit(Array.from({ length: 64 }, next)));
    const pool = bases.flatMap((b) => [b, atCosine(b, 0.99, next), atCosine(b, 0.96, next), atCosine(b, 0.93, next), atCosine(b, 0.6, next)]);
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: pool.length - 1 }), { minLength: 0, maxLength: 30 }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        (picks, threshold) => {
          const vectors = picks.map((i) => pool[i]!);
          const rep = groupNearDuplicates(vectors, threshold);
          const reps: number[] = [];
          vectors.forEach((v, i) => {
            // The first earlier representative it is near, by full float64 cosine, within the tolerance.
            const first = reps.find((r) => cosine(v, vectors[r]!) >= threshold - COSINE_TOLERANCE);
            expect(rep[i]).toBe(first ?? i);
            if (rep[i] === i) reps.push(i);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
