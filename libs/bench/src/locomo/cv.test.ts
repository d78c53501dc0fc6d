import { describe, expect, it } from "@jest/globals";
import { crossValidate } from "./cv.js";

describe("crossValidate (leave one group out)", () => {
  it("never lets the held-out group choose its own setting", () => {
    // Items of groups a, b, c. Setting "fits-c" is excellent on c only; "general" is good on a and b.
    const groups = ["a", "a", "b", "b", "c", "c"];
    const table: Record<string, number[]> = {
      general: [0.8, 0.8, 0.8, 0.8, 0.1, 0.1],
      "fits-c": [0.5, 0.5, 0.5, 0.5, 1, 1],
    };
    const cv = crossValidate(groups, ["general", "fits-c"], (s) => table[s]!);
    const fold = (g: string) => cv.folds.find((f) => f.heldOut === g)!;
    // Held out c: chosen on a and b ("general" 0.8 > 0.5), so c scores 0.1, not 1.
    expect(fold("c").chosen).toBe("general");
    expect(fold("c").heldOutScore).toBeCloseTo(0.1);
    // Held out a: on b and c, "fits-c" (0.75) beats "general" (0.45).
    expect(fold("a").chosen).toBe("fits-c");
    expect(fold("a").heldOutScore).toBeCloseTo(0.5);
    expect(cv.heldOutMean).toBeCloseTo((0.5 + 0.5 + 0.1) / 3);
    // In-sample, the best over everything looks better than any honest figure.
    expect(cv.inSample.setting).toBe("fits-c");
    expect(cv.inSample.score).toBeCloseTo(4 / 6);
  });

  it("weighs groups equally in the mean and breaks ties by grid order", () => {
    const groups = ["a", "b", "b", "b"];
    const cv = crossValidate(groups, ["first", "second"], () => [1, 0, 0, 0]);
    expect(cv.folds.every((f) => f.chosen === "first")).toBe(true);
    expect(cv.heldOutMean).toBeCloseTo(0.5);
  });

  it("refuses a single group and mismatched scores", () => {
    expect(() => crossValidate(["a", "a"], [1], () => [1, 1])).toThrow(/two groups/);
    expect(() => crossValidate(["a", "b"], [1], () => [1])).toThrow(/1 scores for 2 items/);
  });
});
