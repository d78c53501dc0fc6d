import { describe, expect, it } from "@jest/globals";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { CombinedImportanceScorer } from "./combined.js";
import { HeuristicImportanceScorer } from "./heuristic.js";
import { LlmImportanceScorer } from "./llm.js";
import type { ImportanceInput, ImportanceScorer } from "./types.js";

const fixed = (value: number, reason = "fixed"): ImportanceScorer => ({ score: async () => ({ value, reasons: [reason] }) });

describe("CombinedImportanceScorer", () => {
  it("takes the weighted mean of its parts and keeps their reasons", async () => {
    const combined = new CombinedImportanceScorer([
      { scorer: fixed(0.2, "a"), weight: 1 },
      { scorer: fixed(0.8, "b"), weight: 3 },
    ]);
    const score = await combined.score({ text: "anything" });
    expect(score.value).toBeCloseTo((0.2 * 1 + 0.8 * 3) / 4, 10);
    expect(score.reasons).toEqual(["[0 ×1] 0.20: a", "[1 ×3] 0.80: b"]);
  });

  it("combines the heuristic with a model rating, passing the same input to both", async () => {
    const seen: ImportanceInput[] = [];
    const spy: ImportanceScorer = { score: async (input) => (seen.push(input), { value: 0, reasons: [] }) };
    const model = new FakeListChatModel({ responses: ["Rating: 10"] });
    const combined = new CombinedImportanceScorer([
      { scorer: new HeuristicImportanceScorer(), weight: 1 },
      { scorer: new LlmImportanceScorer({ model }), weight: 1 },
      { scorer: spy, weight: 2 },
    ]);
    const input = { text: "user: ok thanks", novelty: 0.3 };
    const score = await combined.score(input);
    // heuristic 0 (small talk), model 1 (rated 10), spy 0: (0 + 1 + 0) / 4.
    expect(score.value).toBeCloseTo(0.25, 10);
    expect(seen).toEqual([input]);
  });

  it("refuses empty, zero, negative or non-numeric weights", () => {
    for (const parts of [
      [],
      [{ scorer: fixed(1), weight: 0 }],
      [{ scorer: fixed(1), weight: -1 }],
      [{ scorer: fixed(1), weight: Number.NaN }],
      [{ scorer: fixed(1), weight: "2" as unknown as number }],
      [{ scorer: {} as ImportanceScorer, weight: 1 }],
    ]) {
      expect(() => new CombinedImportanceScorer(parts)).toThrow(expect.objectContaining({ name: "EngramError", code: "INVALID_OPTIONS" }));
    }
  });

  it("fails when a part fails, rather than returning half an answer", async () => {
    const broken: ImportanceScorer = { score: async () => Promise.reject(new Error("down")) };
    const combined = new CombinedImportanceScorer([
      { scorer: fixed(1), weight: 1 },
      { scorer: broken, weight: 1 },
    ]);
    await expect(combined.score({ text: "x" })).rejects.toThrow("down");
  });
});
