import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { boostBySession, diversify } from "./context.js";

function item(id: string, score: number, threadId?: string): { record: MemoryRecord; score: number } {
  const record: MemoryRecord = { id, scope: { userId: "u", ...(threadId ? { threadId } : {}) }, kind: "episode", content: id, importance: 0.5, createdAt: 0, updatedAt: 0, lastAccessedAt: 0, source: {}, metadata: {} };
  return { record, score };
}

describe("boostBySession", () => {
  it("lifts a memory whose thread holds another strong candidate, not by its own score", () => {
    const items = [item("best", 0.9, "s1"), item("lonely", 0.5, "s2"), item("mate", 0.45, "s1"), item("none", 0.44)];
    const ranked = boostBySession(items, 0.2);
    expect(ranked.map((r) => r.record.id)).toEqual(["best", "mate", "lonely", "none"]);
    // best gains 0.2 * mate's 0.45, mate 0.2 * best's 0.9; lonely has no other in s2.
    expect(ranked[0]!.score).toBeCloseTo(0.99 / 1.2);
    expect(ranked[1]!.score).toBeCloseTo(0.63 / 1.2);
    expect(ranked[2]!.score).toBeCloseTo(0.5 / 1.2);
    expect(boostBySession(items, 0)).toEqual(items);
  });
});

describe("diversify (MMR)", () => {
  const items = [item("a", 0.9), item("a-copy", 0.89), item("b", 0.8), item("c", 0.1)];
  const similarity = (x: string, y: string) => (x.startsWith("a") && y.startsWith("a") ? 0.99 : 0.1);

  it("moves a near-repeat below a different memory, and keeps everything", () => {
    const ranked = diversify(items, similarity, 0.7, 3);
    expect(ranked.map((r) => r.record.id)).toEqual(["a", "b", "a-copy", "c"]);
    expect(ranked.map((r) => r.score)).toEqual([0.9, 0.8, 0.89, 0.1]);
  });

  it("keeps the order with lambda 1", () => {
    expect(diversify(items, similarity, 1, 3)).toEqual(items);
  });
});
