import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { VectorIndex } from "../scoring/vector_index.js";
import { UserIndex } from "./user_index.js";

// A user kept warm for weeks on a server: their recall index (memory/user_index.ts) must give back
// the vector buffer its peak needed once they forget most of their memories, without a rebuild.

const DIMS = 16;

/** A deterministic vector per number (no two alike, so scores rarely tie). */
function vectorOf(n: number, dims = DIMS): number[] {
  return Array.from({ length: dims }, (_, d) => Math.sin(n * 7.31 + d * 1.7) + (d === n % dims ? 1 : 0));
}

function record(n: number) {
  const id = `m${n}`;
  return {
    record: { id, scope: { userId: "alice" }, kind: "episode" as const, content: `memory ${n}`, importance: 0.5, createdAt: n, updatedAt: n, lastAccessedAt: n, source: {}, metadata: {} },
    embedding: vectorOf(n),
  };
}

describe("VectorIndex gives memory back after removals", () => {
  it("forgetting down from 20,000 memories to 100 shrinks the buffer to a few times the live rows", () => {
    const index = new UserIndex();
    const all = Array.from({ length: 20_000 }, (_, n) => record(n));
    index.upsert(all);
    const peak = index.vectors.bytes;
    expect(peak).toBeGreaterThanOrEqual(20_000 * DIMS * 4);
    index.remove(all.slice(100).map((item) => item.record.id));
    expect(index.vectors.size).toBe(100);
    // Before: the 20,000-row buffer stayed (1.28 MB here; 40 MB with 512 dimensions).
    expect(index.vectors.bytes).toBeLessThanOrEqual(4 * 100 * DIMS * 4);
    // Removing the rest leaves no buffer, and the index still takes new vectors.
    index.remove(all.slice(0, 100).map((item) => item.record.id));
    expect(index.vectors.bytes).toBe(0);
    index.upsert([record(7)]);
    expect(index.vectors.nearest(vectorOf(7), 1)[0]?.id).toBe("m7");
  });

  it("a user with a few memories keeps a buffer of a few rows, not 64", () => {
    // A server keeps up to recallIndex.maxUsers indexes, most of them of users with a few memories.
    for (const memories of [1, 2, 3, 5, 10]) {
      const index = new UserIndex();
      for (let n = 0; n < memories; n += 1) index.upsert([record(n)]);
      // Before: 64 rows each (128 KB at 512 dimensions).
      expect(index.vectors.capacity).toBeLessThanOrEqual(Math.ceil(memories * 1.5));
    }
  });

  it("search results after growth and shrinking equal a fresh index of the live vectors", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 599 })), { minLength: 1, maxLength: 900 }),
        fc.nat({ max: 10_000 }),
        fc.integer({ min: 1, max: 20 }),
        (initial, ops, q, k) => {
          const index = new VectorIndex();
          const live = new Map<string, number[]>();
          for (let n = 0; n < initial; n += 1) {
            index.upsert(`v${n}`, vectorOf(n));
            live.set(`v${n}`, vectorOf(n));
          }
          // Mostly removals, some re-adds: the buffer grows and shrinks several times.
          for (const [add, n] of ops) {
            if (add && n % 3 === 0) {
              index.upsert(`v${n}`, vectorOf(n + 1_000));
              live.set(`v${n}`, vectorOf(n + 1_000));
            } else {
              index.remove(`v${n}`);
              live.delete(`v${n}`);
            }
          }
          const fresh = new VectorIndex();
          for (const [id, vector] of live) fresh.upsert(id, vector);
          expect(index.size).toBe(live.size);
          // The buffer follows the live rows (never under a quarter full; none when empty).
          expect(index.capacity).toBeLessThanOrEqual(live.size * 4);
          const query = vectorOf(q + 0.5);
          const got = index.nearest(query, k);
          const want = fresh.nearest(query, k);
          // The same scores, bit for bit (ids may differ only among equal scores).
          expect(got.map((hit) => hit.similarity)).toEqual(want.map((hit) => hit.similarity));
          for (const hit of got) expect(fresh.similarity(query, hit.id)).toBe(hit.similarity);
          for (const id of live.keys()) expect(index.similarity(query, id)).toBe(fresh.similarity(query, id));
        },
      ),
      { numRuns: 100 },
    );
  });
});
