import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import fc from "fast-check";
import { RecordingChatModel } from "../tests/recording_model.js";
import { countTokens } from "../working/tokens.js";
import { summarize } from "./summarize.js";

// A sentence longer than the whole budget could never be picked. When it was all there was (a
// model answering in one long sentence past the budget, a long message without a full stop), the
// summary came back empty: the running summary was replaced by "" and the turns reached no
// summary record.
const LONG_SENTENCE =
  "The user, whose name is Ana and who lives in Porto with her partner Luis and their two cats, is training for the Lisbon marathon in October, " +
  "prefers vegetarian food, is allergic to peanuts, works as a nurse on night shifts, and asked to be reminded about her mother's birthday on 3 June";

describe("summarize: a sentence over the whole budget", () => {
  it("cuts a model's one-sentence answer over budget to fit, instead of returning nothing", async () => {
    const model = new RecordingChatModel(LONG_SENTENCE);
    const summary = await summarize({
      previousSummary: "The user lives in Porto.",
      evicted: [new HumanMessage("Remind me about my mother's birthday on 3 June.")],
      model,
      maxTokens: 30,
    });
    expect(countTokens(summary)).toBeLessThanOrEqual(30);
    expect(summary.startsWith("The user, whose name is Ana and who lives in Porto")).toBe(true);
    expect(summary.endsWith("…")).toBe(true);
  });

  it("keeps the beginning of a long message without a full stop when nothing else fits", async () => {
    const summary = await summarize({ previousSummary: "", evicted: [new HumanMessage(LONG_SENTENCE.replace("The user, whose", "My"))], maxTokens: 25 });
    expect(summary.startsWith("user: My name is Ana and who lives in Porto")).toBe(true);
    expect(countTokens(summary)).toBeLessThanOrEqual(25);
  });

  it("stays within any budget, at a word's end, for random long sentences", async () => {
    const word = fc.constantFrom("Ana", "Porto", "marathon", "peanuts", "🙂", "nurse", "2026", "birthday", "supercalifragilistic", "and");
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 40, maxLength: 120 }), fc.integer({ min: 8, max: 60 }), async (words, maxTokens) => {
        const text = `My ${words.join(" ")}`;
        const summary = await summarize({ previousSummary: "", evicted: [new HumanMessage(text)], maxTokens });
        expect(countTokens(summary)).toBeLessThanOrEqual(maxTokens);
        expect(summary).not.toBe("");
        const kept = summary.replace(/^user: /, "").replace(/…$/, "");
        expect(text.startsWith(kept)).toBe(true);
        expect(text.charAt(kept.length)).toMatch(/^\s?$/);
      }),
      { numRuns: 100 },
    );
  });
});
