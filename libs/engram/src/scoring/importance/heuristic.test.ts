import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { isEngramError } from "../../core/errors.js";
import { DEFAULT_HEURISTIC_WEIGHTS, HeuristicImportanceScorer, type HeuristicWeights } from "./heuristic.js";

const scorer = new HeuristicImportanceScorer();
const value = (text: string, novelty?: number) => scorer.scoreSync(novelty === undefined ? { text } : { text, novelty }).value;
const fired = (text: string) => scorer.scoreSync({ text }).reasons.map((r) => r.split(":")[0]);

/** One sentence per feature: each fires its own feature (and, being plain, few others). */
const FEATURE_SENTENCES: Record<keyof HeuristicWeights, string> = {
  explicit: "please keep in mind",
  selfDisclosure: "my bike",
  preference: "loves jazz",
  emotion: "so excited",
  plan: "going to paint",
  dateTime: "on Friday",
  name: "with Tomas",
  number: "about 40",
};

describe("HeuristicImportanceScorer", () => {
  it("scores small talk low and a personal fact to remember high", async () => {
    for (const smallTalk of ["ok thanks", "hi", "Hello!", "ok", "thanks, that helps", "lol", "sure", "I see, thanks."]) {
      expect(value(smallTalk)).toBeLessThanOrEqual(0.1);
    }
    const important = await scorer.score({ text: "Remember that my daughter Emma's birthday is on 12 May" });
    expect(important.value).toBeGreaterThanOrEqual(0.9);
    expect(important.reasons.map((r) => r.split(":")[0])).toEqual(
      expect.arrayContaining(["explicit", "selfDisclosure", "emotion", "dateTime", "name", "number"]),
    );
    expect(important.reasons.find((r) => r.startsWith("name"))).toBe('name: "Emma"');
  });

  it.each([
    ["I'm a nurse", 0.2],
    ["My sister lives in Berlin", 0.3],
    ["I went to a support group yesterday", 0.35],
    ["I'm going to Kyoto in April", 0.6],
  ])("scores %j as %d (the examples in docs/importance.md)", (text, expected) => {
    expect(value(text)).toBeCloseTo(expected, 10);
  });

  it("detects each documented feature, and only its weight moves the score", () => {
    for (const [feature, sentence] of Object.entries(FEATURE_SENTENCES)) {
      expect(fired(sentence)).toContain(feature);
      expect(value(sentence)).toBeCloseTo(
        fired(sentence).reduce((sum, f) => sum + DEFAULT_HEURISTIC_WEIGHTS[f as keyof HeuristicWeights], 0),
        10,
      );
    }
  });

  it("avoids the usual false alarms", () => {
    expect(fired("It looks like rain")).not.toContain("preference");
    expect(fired("May I ask something?")).not.toContain("dateTime");
    expect(fired("I think so. Sure.")).toEqual([]);
    expect(fired("Today is fine. Great.")).not.toContain("name");
    expect(fired("We meet in May")).toContain("dateTime");
  });

  it("reads the user's lines of an exchange, not the assistant's pleasantries", () => {
    const exchange = "user: ok thanks\nassistant: I'm happy to help! I will remember that, Sam.";
    expect(value(exchange)).toBe(0);
    expect(new HeuristicImportanceScorer({ includeAssistant: true }).scoreSync({ text: exchange }).value).toBeGreaterThan(0.3);
    // A multi-line user message keeps its role on the following lines.
    expect(value("user: hi\nremember this: my PIN hint is Rover\nassistant: ok")).toBeGreaterThan(0.5);
    // An assistant-only text is read whole.
    expect(value("assistant: Your dentist appointment is on Friday at 3pm.")).toBeGreaterThan(0.2);
  });

  it("never lowers the score when a feature is added (monotonic)", () => {
    const sentence = fc.constantFrom(...Object.values(FEATURE_SENTENCES), "ok", "well", "the sky", "hmm right");
    fc.assert(
      fc.property(fc.array(sentence, { maxLength: 6 }), fc.constantFrom(...Object.values(FEATURE_SENTENCES)), fc.double({ min: 0, max: 1, noNaN: true }), (base, added, novelty) => {
        const text = base.join(". ");
        const before = value(text, novelty);
        const after = value(`${text}. ${added}`, novelty);
        expect(after).toBeGreaterThanOrEqual(before);
        expect(after).toBeLessThanOrEqual(1);
        expect(before).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it("scales by novelty: a repeat of something stored scores lower, never higher", () => {
    const text = "My sister Ana lives in Porto";
    const fresh = value(text);
    expect(value(text, 0)).toBeCloseTo(fresh * 0.5, 10);
    expect(value(text, 0.5)).toBeCloseTo(fresh * 0.75, 10);
    expect(scorer.scoreSync({ text, novelty: 0.2 }).reasons).toContain("novelty: 0.20");
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(value(text, high)).toBeGreaterThanOrEqual(value(text, low));
      }),
    );
    expect(new HeuristicImportanceScorer({ noveltyWeight: 0 }).scoreSync({ text, novelty: 0 }).value).toBeCloseTo(fresh, 10);
  });

  it("takes custom weights and refuses bad ones and bad input", async () => {
    const onlyNames = new HeuristicImportanceScorer({
      weights: { explicit: 0, selfDisclosure: 0, preference: 0, emotion: 0, plan: 0, dateTime: 0, number: 0, name: 0.7 },
    });
    expect(onlyNames.scoreSync({ text: "Remember that my daughter Emma's birthday is on 12 May" }).value).toBeCloseTo(0.7, 10);
    const bad: Array<[() => unknown, string]> = [
      [() => new HeuristicImportanceScorer({ weights: { name: -1 } }), "INVALID_OPTIONS"],
      [() => new HeuristicImportanceScorer({ weights: { nmae: 1 } as unknown as Partial<HeuristicWeights> }), "INVALID_OPTIONS"],
      [() => new HeuristicImportanceScorer({ noveltyWeight: 2 }), "INVALID_OPTIONS"],
      [() => scorer.scoreSync({ text: "hi", novelty: 1.5 }), "INVALID_OPTIONS"],
      [() => scorer.scoreSync({ text: 42 } as unknown as { text: string }), "INVALID_CONTENT"],
    ];
    for (const [run, code] of bad) {
      let caught: unknown;
      try {
        run();
      } catch (error) {
        caught = error;
      }
      expect(isEngramError(caught, code as "INVALID_OPTIONS")).toBe(true);
    }
    await expect(scorer.score({ text: "hi", novelty: Number.NaN })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });
});

describe("reasons quote whole numbers", () => {
  it("a date or a number is quoted as written, not from its last digit", () => {
    const reasons = (text: string) => new HeuristicImportanceScorer().scoreSync({ text }).reasons;
    expect(reasons("see you on 12 May")).toEqual(expect.arrayContaining(['dateTime: "12 May"', 'number: "12"']));
    expect(reasons("I have 12 cats")).toContain('number: "12"');
    expect(reasons("the flight lands 23 Aug")).toContain('dateTime: "23 Aug"');
    expect(reasons("it costs 1,250.50 euros")).toContain('number: "1,250.50"');
  });
});
