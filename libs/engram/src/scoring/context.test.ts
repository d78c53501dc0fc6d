import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { isEngramError } from "../core/errors.js";
import { boostBySession, diversify, weighBySpeaker } from "./context.js";
import { DEFAULT_RANKER, finishRanking, resolveRanker, type Ranked } from "./ranker.js";

function item(id: string, score: number, threadId?: string, role?: string): { record: MemoryRecord; score: number } {
  const record: MemoryRecord = { id, scope: { userId: "u", ...(threadId ? { threadId } : {}) }, kind: "episode", content: id, importance: 0.5, createdAt: 0, updatedAt: 0, lastAccessedAt: 0, source: {}, metadata: {}, ...(role ? { role } : {}) };
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

describe("weighBySpeaker", () => {
  it("keeps `share` of an assistant turn's score and sorts again; other roles and none keep theirs", () => {
    const items = [item("echo", 0.4, "s1", "assistant"), item("answer", 0.3, "s1", "user"), item("plain", 0.25), item("tool", 0.22, "s1", "tool")];
    const ranked = weighBySpeaker(items, 0.5);
    expect(ranked.map((r) => [r.record.id, r.score])).toEqual([
      ["answer", 0.3],
      ["plain", 0.25],
      ["tool", 0.22],
      ["echo", 0.2],
    ]);
    expect(weighBySpeaker(items, 1)).toEqual(items);
  });

  it("in the ranker: runs after the session boost, so an assistant's question still lifts its session", () => {
    const ranked = (scores: Array<[string, number, string, string]>): Ranked[] =>
      scores.map(([id, score, thread, role]) => ({ ...item(id, score, thread, role), parts: { relevance: score, lexical: 0, recency: 0, importance: 0, neighbour: 0 } }));
    // The assistant's question matches best; the user's answer in its session and an unrelated
    // user turn in another session match alike. The answer comes first (lifted by the question's
    // full match, it passes the cat), the question after it.
    const scored = ranked([
      ["Exciting! Do you have a training plan?", 0.45, "s3", "assistant"],
      ["I signed up for the Lisbon half marathon.", 0.25, "s3", "user"],
      ["I adopted a grey cat.", 0.26, "s2", "user"],
    ]);
    const order = finishRanking(scored, 0, DEFAULT_RANKER).map((r) => r.record.content);
    expect(order).toEqual(["I signed up for the Lisbon half marathon.", "Exciting! Do you have a training plan?", "I adopted a grey cat."]);
    const equal = finishRanking(scored, 0, { ...DEFAULT_RANKER, assistant: 1 }).map((r) => r.record.content);
    expect(equal[0]).toBe("Exciting! Do you have a training plan?");
  });

  it("refuses a share above 1", () => {
    let caught: unknown;
    try {
      resolveRanker({ assistant: 1.5 });
    } catch (error) {
      caught = error;
    }
    expect(isEngramError(caught, "INVALID_OPTIONS")).toBe(true);
    expect(resolveRanker({ assistant: 0 }).assistant).toBe(0);
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
