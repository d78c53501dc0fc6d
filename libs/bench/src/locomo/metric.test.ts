import { describe, expect, it } from "@jest/globals";
import { cleanEvidence, extractDiaIds, parseConversation, parseSessionDate } from "./data.js";
import { aggregate, hitAt, recallAt, scoreQuestion, topK } from "./metric.js";

const KNOWN = new Set(["D1:1", "D1:2", "D8:6", "D9:17", "D11:26", "D30:5"]);

describe("evidence cleaning (README rules)", () => {
  it("splits several ids written in one string", () => {
    expect(extractDiaIds("D8:6; D9:17")).toEqual(["D8:6", "D9:17"]);
    expect(cleanEvidence(["D8:6; D9:17"], KNOWN).ids).toEqual(["D8:6", "D9:17"]);
  });

  it("reads a stray colon after the D as part of the id", () => {
    expect(extractDiaIds("D:11:26")).toEqual(["D11:26"]);
  });

  it("strips leading zeros", () => {
    expect(extractDiaIds("D30:05")).toEqual(["D30:5"]);
    expect(extractDiaIds("D03:005")).toEqual(["D3:5"]);
  });

  it("yields nothing for a bare D", () => {
    expect(extractDiaIds("D")).toEqual([]);
  });

  it("drops ids not in the conversation, counts them, and deduplicates", () => {
    const { ids, dropped } = cleanEvidence(["D1:1", "D", "D99:1", "D1:01", "D1:2"], KNOWN);
    expect(ids).toEqual(["D1:1", "D1:2"]);
    expect(dropped).toBe(1);
  });

  it("skips a question left with no usable evidence, and adversarial questions", () => {
    const conv = parseConversation({
      sample_id: "c",
      conversation: {
        speaker_a: "A",
        speaker_b: "B",
        session_1_date_time: "1:56 pm on 8 May, 2023",
        session_1: [
          { speaker: "A", dia_id: "D1:1", text: "hi" },
          { speaker: "B", dia_id: "D1:2", text: "look", blip_caption: "a photo of a dog" },
        ],
        // A date without turns (as in the data) is not a session.
        session_2_date_time: "2:00 pm on 9 May, 2023",
      },
      qa: [
        { question: "q1", answer: "a", evidence: ["D"], category: 4 },
        { question: "q2", answer: "a", evidence: ["D7:1"], category: 1 },
        { question: "q3", answer: "a", evidence: [], category: 3 },
        { question: "q4", answer: "a", evidence: ["D1:1"], category: 5 },
        { question: "q5", answer: "a", evidence: ["D1:02", "D"], category: 2 },
      ],
    });
    expect(conv.questions.map((q) => [q.question, q.evidence])).toEqual([["q5", ["D1:2"]]]);
    expect(conv.skipped).toEqual({ adversarial: 1, noEvidence: 3, droppedIds: 1 });
    expect(conv.turns[1]!.text).toBe("look [shares a photo: a photo of a dog]");
    expect(conv.turns[1]!.rawText).toBe("look");
    expect(conv.turns[0]!.date).toBe(Date.UTC(2023, 4, 8, 13, 56));
  });
});

describe("session dates", () => {
  it("parses 12 am and 12 pm correctly", () => {
    expect(parseSessionDate("12:28 am on 8 November, 2023")).toBe(Date.UTC(2023, 10, 8, 0, 28));
    expect(parseSessionDate("12:05 pm on 1 January, 2024")).toBe(Date.UTC(2024, 0, 1, 12, 5));
    expect(() => parseSessionDate("yesterday")).toThrow(/Unrecognized/);
  });
});

describe("recall@k and hit@k", () => {
  it("is computed on sets: a turn returned twice counts once and does not use a slot twice", () => {
    const ranked = ["D1:1", "D1:1", "D1:2", "D1:3"];
    expect(topK(ranked, 2)).toEqual(["D1:1", "D1:2"]);
    expect(recallAt(["D1:1", "D1:2"], ranked, 2)).toBe(1);
    // Duplicate evidence does not inflate the denominator.
    expect(recallAt(["D1:3", "D1:3", "D1:9"], ranked, 3)).toBe(0.5);
  });

  it("only counts the top k", () => {
    const ranked = ["D1:5", "D1:6", "D1:1"];
    expect(recallAt(["D1:1"], ranked, 2)).toBe(0);
    expect(hitAt(["D1:1"], ranked, 2)).toBe(0);
    expect(recallAt(["D1:1"], ranked, 3)).toBe(1);
    expect(hitAt(["D1:1", "D2:2"], ranked, 3)).toBe(1);
    expect(recallAt(["D1:1", "D2:2"], ranked, 3)).toBe(0.5);
  });

  it("counts the tokens (characters / 4) of the distinct top-k texts", () => {
    const texts: Record<string, string> = { a: "12345678", b: "1234" };
    const score = scoreQuestion(1, ["b"], ["a", "a", "b"], (id) => texts[id], [1, 2]);
    expect(score.tokens).toEqual({ 1: 2, 2: 3 });
    expect(score.recall).toEqual({ 1: 0, 2: 1 });
  });

  it("averages per question, per category and overall", () => {
    const text = () => "";
    const scores = [
      scoreQuestion(1, ["x"], ["x"], text, [1]),
      scoreQuestion(1, ["x", "y"], ["x"], text, [1]),
      scoreQuestion(4, ["z"], ["x"], text, [1]),
    ];
    const result = aggregate(scores, [1]);
    expect(result.byCategory[1]).toMatchObject({ questions: 2, recall: { 1: 0.75 }, hit: { 1: 1 } });
    expect(result.byCategory[4]).toMatchObject({ questions: 1, recall: { 1: 0 }, hit: { 1: 0 } });
    expect(result.byCategory[2].questions).toBe(0);
    expect(result.overall.recall[1]).toBeCloseTo(0.5);
    expect(result.overall.hit[1]).toBeCloseTo(2 / 3);
  });
});
