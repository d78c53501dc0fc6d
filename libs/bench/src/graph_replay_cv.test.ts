import { describe, expect, it } from "@jest/globals";
import { budgetSettings, crossValidateBudget, label, mergeRuns, shellQuote } from "./graph_replay_cv.js";

const conv = (sampleId: string, recall10: number[], lastRatioByK: number[]) => ({ sampleId, recall10, lastRatioByK });

describe("graph replay budget cross-validation", () => {
  // Two replays: a big window (better recall, prompts over the target at k >= 2 on c2) and a small one.
  const replays = [
    {
      mode: "graph-end" as const,
      settings: {},
      conversations: [conv("c1", [1, 1], [0.03, 0.05, 0.08]), conv("c2", [1, 0], [0.04, 0.09, 0.12]), conv("c3", [1, 1], [0.03, 0.06, 0.09])],
    },
    {
      mode: "graph-end" as const,
      settings: { window: 4, summaryMaxTokens: 200 },
      conversations: [conv("c1", [1, 0], [0.02, 0.03, 0.04]), conv("c2", [0, 0], [0.02, 0.03, 0.05]), conv("c3", [0, 1], [0.02, 0.03, 0.04])],
    },
  ];

  it("lists every (replay, k >= 1), largest budget first", () => {
    expect(budgetSettings(replays).map(label)).toEqual([
      "window 10, summary 400, k 2",
      "window 10, summary 400, k 1",
      "window 4, summary 200, k 2",
      "window 4, summary 200, k 1",
    ]);
  });

  it("chooses on the other conversations the best recall within the prompt target, and scores the held-out one", () => {
    const add = { c1: [1, 1], c2: [1, 1], c3: [1, 0] };
    const cv = crossValidateBudget(budgetSettings(replays), add);
    // Holding out c2, the training conversations allow k 2 of the big window (c2's 0.12 is unseen).
    const c2 = cv.folds.find((f) => f.heldOut === "c2")!;
    expect(c2).toEqual({ heldOut: "c2", chosen: "window 10, summary 400, k 2", graph: 0.5, add: 1, ratio: 0.12 });
    // With c2 in training, k 2 is over the target there: k 1 of the big window (same recall) wins.
    expect(cv.folds.find((f) => f.heldOut === "c1")!.chosen).toBe("window 10, summary 400, k 1");
    expect(cv.inSample.chosen).toBe("window 10, summary 400, k 1");
    expect(cv.inSample.maxRatio).toBeCloseTo(0.09);
    expect(cv.heldOut.maxRatio).toBeCloseTo(0.12);
    expect(cv.heldOut.graph).toBeCloseTo((1 + 0.5 + 1) / 3);
    expect(cv.heldOut.gap).toBeCloseTo((0 - 0.5 + 0.5) / 3);
  });

  it("joins one replay split over processes by conversation, and keeps other settings apart", () => {
    const part = (settings: object, ids: string[]) => ({ mode: "graph-end" as const, settings, conversations: ids.map((id) => conv(id, [1], [0.1, 0.2])) });
    const merged = mergeRuns([part({}, ["c1", "c2"]), part({ window: 4 }, ["c1"]), part({}, ["c3", "c1"])]);
    expect(merged.map((r) => [r.settings, r.conversations.map((c) => c.sampleId)])).toEqual([
      [{}, ["c1", "c2", "c3"]],
      [{ window: 4 }, ["c1"]],
    ]);
  });
});

describe("shellQuote", () => {
  it("leaves plain arguments and quotes the others so that a shell reads them back", () => {
    expect(shellQuote("--only")).toBe("--only");
    expect(shellQuote("conv-26,conv-30")).toBe("conv-26,conv-30");
    expect(shellQuote('[{"window":6}]')).toBe(`'[{"window":6}]'`);
    expect(shellQuote("it's (USE-Lite)")).toBe(`'it'\\''s (USE-Lite)'`);
  });
});
