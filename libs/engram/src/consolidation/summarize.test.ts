import { describe, expect, it } from "@jest/globals";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import fc from "fast-check";
import { isEngramError } from "../core/errors.js";
import { countTokens } from "../working/tokens.js";
import { summarize } from "./summarize.js";

/** FakeListChatModel that keeps every prompt it was sent, so tests can assert on them. */
class RecordingModel extends FakeListChatModel {
  readonly calls: BaseMessage[][] = [];

  override async _generate(messages: BaseMessage[], options?: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    this.calls.push(messages);
    return super._generate(messages, options, runManager);
  }
}

const smallTalk = [
  new HumanMessage("hi"),
  new AIMessage("Hello! How can I help today?"),
  new HumanMessage("ok thanks"),
  new AIMessage("You're welcome."),
];
const important = new HumanMessage("Remember that my daughter Emma's birthday is on 12 May.");
const turns: BaseMessage[] = [
  smallTalk[0]!,
  smallTalk[1]!,
  important,
  new AIMessage("Noted, I will remember Emma's birthday."),
  smallTalk[2]!,
  smallTalk[3]!,
];

describe("summarize without a model (extractive)", () => {
  it("keeps the important sentence over small talk, in the user's words", async () => {
    const summary = await summarize({ previousSummary: "", evicted: turns, maxTokens: 30 });
    expect(summary).toBe("user: Remember that my daughter Emma's birthday is on 12 May.");
    expect(countTokens(summary)).toBeLessThanOrEqual(30);
  });

  it("carries the previous summary forward when the budget allows, in the original order", async () => {
    const previous = "user: I live in Lisbon with my wife Ana.\nuser: My favourite band is Radiohead.";
    const summary = await summarize({ previousSummary: previous, evicted: turns });
    expect(summary.split("\n")).toEqual([
      "user: I live in Lisbon with my wife Ana.",
      "user: My favourite band is Radiohead.",
      "user: Remember that my daughter Emma's birthday is on 12 May.",
      "assistant: Noted, I will remember Emma's birthday.",
    ]);
    // And the next round carries that summary again, without duplicating a sentence.
    const next = await summarize({ previousSummary: summary, evicted: [important, ...smallTalk] });
    expect(next).toBe(summary);
  });

  it("drops the least important sentences first when the summary outgrows its budget", async () => {
    const previous = "user: The weather was grey. I'm allergic to peanuts.";
    const summary = await summarize({ previousSummary: previous, evicted: [important], maxTokens: 32 });
    expect(summary).toContain("allergic to peanuts");
    expect(summary).toContain("Emma's birthday");
    expect(summary).not.toContain("weather");
    expect(countTokens(summary)).toBeLessThanOrEqual(32);
  });

  it("always respects the budget and is deterministic (random conversations)", async () => {
    const sentence = fc.constantFrom(
      "ok.",
      "thanks!",
      "I moved to Oslo in 2021.",
      "My brother Piet loves chess.",
      "We are going to Rome next week.",
      "The soup was fine.",
      "Can you draft an email to my landlord about the heating?",
      "Remember this: my passport expires on 3 March 2027.",
    );
    const message = fc.tuple(fc.boolean(), fc.array(sentence, { minLength: 1, maxLength: 4 })).map(([human, parts]) =>
      human ? new HumanMessage(parts.join(" ")) : new AIMessage(parts.join(" ")),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 12 }), fc.array(sentence, { maxLength: 5 }), fc.integer({ min: 1, max: 120 }), async (evicted, previousParts, maxTokens) => {
        const input = { previousSummary: previousParts.join(" "), evicted, maxTokens };
        const summary = await summarize(input);
        expect(countTokens(summary)).toBeLessThanOrEqual(maxTokens);
        expect(await summarize(input)).toBe(summary);
      }),
      { numRuns: 150 },
    );
  });

  it("leaves tool mechanics and system messages out", async () => {
    const call = new AIMessage({ content: "", tool_calls: [{ id: "w1", name: "weather", args: { city: "Oslo" } }] });
    const summary = await summarize({
      previousSummary: "",
      evicted: [
        new SystemMessage("You are a helpful assistant with secret instructions."),
        new HumanMessage("What's the weather in Oslo? I'm flying there on Friday."),
        call,
        new ToolMessage({ content: '{"temp": -3, "sky": "snow"}', tool_call_id: "w1" }),
        new AIMessage("It is -3C and snowing in Oslo."),
      ],
    });
    expect(summary).toBe("user: What's the weather in Oslo? I'm flying there on Friday.\nassistant: It is -3C and snowing in Oslo.");
  });

  it("returns the previous summary unchanged when nothing was evicted", async () => {
    const model = new RecordingModel({ responses: ["should not be called"] });
    expect(await summarize({ previousSummary: "The user likes tea.", evicted: [], model })).toBe("The user likes tea.");
    expect(await summarize({ previousSummary: "", evicted: [new SystemMessage("rules")] })).toBe("");
    expect(model.calls).toHaveLength(0);
  });
});

describe("summarize with a model", () => {
  it("folds the previous summary and the evicted turns into the prompt and returns the model's summary", async () => {
    const model = new RecordingModel({ responses: ["The user's daughter Emma has her birthday on 12 May."] });
    const call = new AIMessage({ content: "", tool_calls: [{ id: "c1", name: "calendar_add", args: { date: "05-12" } }] });
    const summary = await summarize({
      previousSummary: "The user lives in Lisbon.",
      evicted: [important, call, new ToolMessage({ content: "added", tool_call_id: "c1", name: "calendar_add" }), new AIMessage("Added to your calendar.")],
      model,
      maxTokens: 200,
    });
    expect(summary).toBe("The user's daughter Emma has her birthday on 12 May.");
    expect(model.calls).toHaveLength(1);
    const prompt = model.calls[0]![0]!.content as string;
    expect(prompt).toContain("Previous summary:\n<<<\nThe user lives in Lisbon.\n>>>");
    expect(prompt).toContain("user: Remember that my daughter Emma's birthday is on 12 May.");
    expect(prompt).toContain('assistant called calendar_add({"date":"05-12"})');
    expect(prompt).toContain("tool result (calendar_add): added");
    expect(prompt).toContain("assistant: Added to your calendar.");
    expect(prompt).toContain("at most 150 words");
  });

  // The placeholders were filled one after another: a previous summary that held "{lines}" (a
  // user talking about a template) took the new lines there, and "New lines" showed "{lines}".
  it("fills each placeholder of the prompt once, whatever the summary and the turns contain", async () => {
    const model = new RecordingModel({ responses: ["The user writes templates."] });
    await summarize({
      previousSummary: "The user's template uses {lines} and {summary} and {maxWords}.",
      evicted: [new HumanMessage("I also tried {summary} in the footer.")],
      model,
      maxTokens: 200,
    });
    const prompt = model.calls[0]![0]!.content as string;
    expect(prompt).toContain("Previous summary:\n<<<\nThe user's template uses {lines} and {summary} and {maxWords}.\n>>>");
    expect(prompt).toContain("New lines of conversation:\n<<<\nuser: I also tried {summary} in the footer.\n>>>");
  });

  it("says there is no summary yet, strips a 'Summary:' echo, and cuts an over-long answer to the budget", async () => {
    const long = `Summary: ${"The user talked about the weather again. ".repeat(30)}The user is allergic to peanuts.`;
    const model = new RecordingModel({ responses: [long] });
    const summary = await summarize({ previousSummary: "", evicted: [important], model, maxTokens: 10 });
    expect(model.calls[0]![0]!.content).toContain("Previous summary:\n<<<\n(none yet)\n>>>");
    expect(summary).toBe("The user is allergic to peanuts.");
    expect(countTokens(summary)).toBeLessThanOrEqual(10);
  });

  // The running summary goes into the thread's checkpoint (PostgreSQL refuses a NUL in text) and
  // the summary record into the store: a model's text is made safe like any content (core/text.ts).
  it("makes the model's text safe, and an answer of invisible characters is no summary", async () => {
    const broken = new RecordingModel({ responses: ["The user likes tea.\u0000 Cut emoji \uD83D"] });
    expect(await summarize({ previousSummary: "", evicted: [important], model: broken })).toBe("The user likes tea. Cut emoji \uFFFD");
    const invisible = new RecordingModel({ responses: ["\u200B\u200B\u2060"] });
    await expect(summarize({ previousSummary: "", evicted: [important], model: invisible })).rejects.toMatchObject({ code: "MODEL_OUTPUT_INVALID" });
  });

  it("raises typed errors for an empty answer, a failing model and bad input", async () => {
    await expect(summarize({ previousSummary: "", evicted: [important], model: new RecordingModel({ responses: ["   "] }) })).rejects.toMatchObject({
      code: "MODEL_OUTPUT_INVALID",
    });
    class Broken extends FakeListChatModel {
      override async _generate(): Promise<ChatResult> {
        throw new Error("timeout");
      }
    }
    await expect(summarize({ previousSummary: "", evicted: [important], model: new Broken({ responses: [] }) })).rejects.toMatchObject({
      code: "MODEL_ERROR",
      cause: { message: "timeout" },
    });
    for (const [input, code] of [
      [{ previousSummary: "", evicted: [important], maxTokens: 0 }, "INVALID_OPTIONS"],
      [{ previousSummary: 3, evicted: [] }, "INVALID_CONTENT"],
      [{ previousSummary: "", evicted: [{ role: "user", content: "hi" }] }, "INVALID_CONTENT"],
      [{ previousSummary: "", evicted: "hi" }, "INVALID_CONTENT"],
    ] as const) {
      let caught: unknown;
      try {
        await summarize(input as unknown as Parameters<typeof summarize>[0]);
      } catch (error) {
        caught = error;
      }
      expect(isEngramError(caught, code)).toBe(true);
    }
  });
});
