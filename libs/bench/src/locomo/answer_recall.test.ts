import { describe, expect, it } from "@jest/globals";
import { aggregateAnswerRecall, answerRecall, answerRecallAt, answerTokens, normalizeAnswer } from "./answer_recall.js";

describe("answer recall (LoCoMo's answer normalization)", () => {
  it("normalizes as LoCoMo's normalize_answer: commas, case, punctuation, articles and 'and'", () => {
    expect(normalizeAnswer("The Sunrise, and a lake!")).toBe("sunrise lake");
    expect(normalizeAnswer("7 May 2023")).toBe("7 may 2023");
    // Punctuation goes before articles are removed, so "don't" is one token and "the-end" becomes "theend".
    expect(normalizeAnswer("Don't stop; the-end")).toBe("dont stop theend");
    expect(normalizeAnswer("an, the")).toBe("");
  });

  it("stems with Porter, so inflections meet", () => {
    expect(answerTokens("Painting sunrises")).toEqual(answerTokens("painted sunrise"));
    expect(answerTokens("running")).toEqual(["run"]);
  });

  it("is the share of the gold tokens found in the retrieved texts, counted as a multiset", () => {
    expect(answerRecall("pottery class", ["Caroline: I signed up for a pottery workshop"])).toBeCloseTo(0.5);
    expect(answerRecall("pottery class", ["I took a class", "Pottery is fun"])).toBe(1);
    expect(answerRecall("pottery class", [])).toBe(0);
    // A token the answer holds twice is found twice only if the texts hold it twice.
    expect(answerRecall("dog dog", ["my dog"])).toBeCloseTo(0.5);
    expect(answerRecall("dog dog", ["my dog", "her dog"])).toBe(1);
    // Nothing left after normalization: not scorable.
    expect(answerRecall("The", ["the"])).toBeNaN();
  });

  it("reads the first k distinct ids of a ranking, as R@k does", () => {
    const texts: Record<string, string> = { a: "went camping", b: "in June", c: "with Mel" };
    const at = answerRecallAt("camping, June, Mel", ["a", "a", "b", "c"], (id) => texts[id], [1, 2, 3]);
    expect(at[1]).toBeCloseTo(1 / 3);
    expect(at[2]).toBeCloseTo(2 / 3);
    expect(at[3]).toBe(1);
  });

  it("averages per category and overall, leaving unscorable questions out", () => {
    const scores = aggregateAnswerRecall(
      [
        { category: 1, recall: { 10: 1 } },
        { category: 1, recall: { 10: 0 } },
        { category: 4, recall: { 10: 0.5 } },
        { category: 4, recall: { 10: Number.NaN } },
      ],
      [10],
    );
    expect(scores.byCategory[1]).toEqual({ questions: 2, recall: { 10: 0.5 } });
    expect(scores.byCategory[4]).toEqual({ questions: 1, recall: { 10: 0.5 } });
    expect(scores.byCategory[2].questions).toBe(0);
    expect(scores.byCategory[2].recall[10]).toBeNaN();
    expect(scores.overall).toEqual({ questions: 3, recall: { 10: 0.5 } });
  });
});
