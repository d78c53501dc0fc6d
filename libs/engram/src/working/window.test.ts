import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import fc from "fast-check";
import { isEngramError } from "../core/errors.js";
import { countTokens } from "./tokens.js";
import { selectWindow, type WindowOptions } from "./window.js";

// ---- A generator of conversations with tool calls --------------------------------------------

const word = fc.constantFrom("the", "weather", "Berlin", "I", "love", "jazz", "42", "tomorrow", "call", "ok", "thanks", "my", "sister");
const text = fc.array(word, { minLength: 0, maxLength: 25 }).map((words) => words.join(" "));

/** One agent step: an AI message calling 1-3 tools, then their results (in any order). */
const toolStep = fc.record({
  calls: fc.array(fc.record({ name: fc.constantFrom("search", "calc", "weather"), arg: text }), { minLength: 1, maxLength: 3 }),
  results: fc.array(text, { minLength: 3, maxLength: 3 }),
  order: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
});

const turn = fc.record({
  question: text,
  steps: fc.array(toolStep, { maxLength: 2 }),
  answer: fc.option(text, { nil: undefined }),
  midSystem: fc.boolean(),
});

const conversation = fc.record({
  system: fc.boolean(),
  greeting: fc.option(text, { nil: undefined }),
  turns: fc.array(turn, { minLength: 0, maxLength: 8 }),
});

type Conversation = typeof conversation extends fc.Arbitrary<infer T> ? T : never;

function build(spec: Conversation): BaseMessage[] {
  let next = 0;
  const messages: BaseMessage[] = [];
  if (spec.system) messages.push(new SystemMessage("You are a helpful assistant."));
  if (spec.greeting !== undefined) messages.push(new AIMessage(`Hello! ${spec.greeting}`));
  for (const t of spec.turns) {
    if (t.midSystem) messages.push(new SystemMessage("Note: the user is on mobile."));
    messages.push(new HumanMessage(t.question));
    for (const step of t.steps) {
      const calls = step.calls.map((c) => ({ id: `call_${next++}`, name: c.name, args: { q: c.arg } }));
      messages.push(new AIMessage({ content: "", tool_calls: calls }));
      // Results may come back in any order.
      const ordered = calls.map((call, i) => ({ call, key: step.order[i] ?? 0, i })).sort((a, b) => a.key - b.key || a.i - b.i);
      for (const { call, i } of ordered) {
        messages.push(new ToolMessage({ content: step.results[i] ?? "", tool_call_id: call.id, name: call.name }));
      }
    }
    if (t.answer !== undefined) messages.push(new AIMessage(t.answer));
  }
  return messages;
}

const options: fc.Arbitrary<WindowOptions> = fc.record(
  {
    maxTurns: fc.integer({ min: 1, max: 6 }),
    maxTokens: fc.integer({ min: 1, max: 400 }),
  },
  { requiredKeys: [] },
);

// ---- Helpers used by the properties ------------------------------------------------------------

const isSystem = (m: BaseMessage) => m.getType() === "system";
const isHuman = (m: BaseMessage) => m.getType() === "human";

function toolCallIds(m: BaseMessage): string[] {
  return ((m as AIMessage).tool_calls ?? []).map((c) => c.id!);
}

/** Turns among non-system messages: a turn starts at a human message (or at the very start). */
function countTurns(nonSystem: BaseMessage[]): number {
  let turns = 0;
  nonSystem.forEach((m, i) => {
    if (i === 0 || isHuman(m)) turns += 1;
  });
  return turns;
}

describe("selectWindow (properties over random conversations with tool calls)", () => {
  it("splits without losing, duplicating or reordering, and never separates a tool call from its result", () => {
    fc.assert(
      fc.property(conversation, options, (spec, opts) => {
        const input = build(spec);
        const { kept, evicted } = selectWindow(input, opts);
        const position = new Map(input.map((m, i) => [m, i]));

        // kept + evicted == input, order preserved within each.
        const keptIdx = kept.map((m) => position.get(m)!);
        const evictedIdx = evicted.map((m) => position.get(m)!);
        expect(keptIdx.every((i, k) => k === 0 || i > keptIdx[k - 1]!)).toBe(true);
        expect(evictedIdx.every((i, k) => k === 0 || i > evictedIdx[k - 1]!)).toBe(true);
        expect([...keptIdx, ...evictedIdx].sort((a, b) => a - b)).toEqual(input.map((_, i) => i));

        // System messages always stay.
        expect(evicted.some(isSystem)).toBe(false);
        expect(kept.filter(isSystem).length).toBe(input.filter(isSystem).length);

        // No ToolMessage kept without its AI tool call, and no AI tool call kept without its results.
        const keptCalls = new Set(kept.flatMap(toolCallIds));
        const keptResults = new Set(kept.filter((m) => m.getType() === "tool").map((m) => (m as ToolMessage).tool_call_id));
        for (const id of keptResults) expect(keptCalls.has(id)).toBe(true);
        for (const id of keptCalls) expect(keptResults.has(id)).toBe(true);

        // The kept conversation is the newest run of turns: everything evicted precedes it.
        const keptNonSystem = kept.filter((m) => !isSystem(m));
        const inputNonSystem = input.filter((m) => !isSystem(m));
        expect(keptNonSystem).toEqual(inputNonSystem.slice(inputNonSystem.length - keptNonSystem.length));
        expect(keptNonSystem.length === 0 || keptNonSystem[0] === inputNonSystem[0] || isHuman(keptNonSystem[0]!)).toBe(true);

        // The newest turn is always kept.
        const lastHuman = inputNonSystem.map(isHuman).lastIndexOf(true);
        const newestTurn = inputNonSystem.slice(Math.max(lastHuman, 0));
        for (const m of newestTurn) expect(kept).toContain(m);

        // Budgets honoured, except when only the newest turn is kept.
        const maxTurns = opts.maxTurns ?? 10;
        if (keptNonSystem.length > newestTurn.length) {
          expect(countTurns(keptNonSystem)).toBeLessThanOrEqual(maxTurns);
          if (opts.maxTokens !== undefined) expect(countTokens(keptNonSystem)).toBeLessThanOrEqual(opts.maxTokens);
        }

        // And the window is as large as the budgets allow: the next older turn would not fit.
        if (evicted.length > 0) {
          const evictedNonSystem = evicted.filter((m) => !isSystem(m));
          const start = Math.max(evictedNonSystem.map(isHuman).lastIndexOf(true), 0);
          const grown = [...evictedNonSystem.slice(start), ...keptNonSystem];
          const overTurns = countTurns(grown) > maxTurns;
          const overTokens = opts.maxTokens !== undefined && countTokens(grown) > opts.maxTokens;
          expect(overTurns || overTokens).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("selectWindow", () => {
  const system = new SystemMessage("You are terse.");
  const turnA = [new HumanMessage("My name is Ana."), new AIMessage("Hi Ana.")];
  const call = new AIMessage({ content: "", tool_calls: [{ id: "t1", name: "weather", args: { city: "Lisbon" } }] });
  const result = new ToolMessage({ content: "21C, sunny", tool_call_id: "t1" });
  const turnB = [new HumanMessage("Weather in Lisbon?"), call, result, new AIMessage("21C and sunny.")];
  const turnC = [new HumanMessage("Thanks!"), new AIMessage("Any time.")];

  it("keeps the last N turns and the system message, by default 10", () => {
    const { kept, evicted } = selectWindow([system, ...turnA, ...turnB, ...turnC], { maxTurns: 2 });
    expect(kept).toEqual([system, ...turnB, ...turnC]);
    expect(evicted).toEqual(turnA);
    const many = Array.from({ length: 12 }, (_, i) => [new HumanMessage(`q${i}`), new AIMessage(`a${i}`)]).flat();
    expect(selectWindow(many).kept).toEqual(many.slice(4));
  });

  it("drops a whole turn rather than a tool result when the token budget is tight", () => {
    const budget = countTokens(turnC) + countTokens(turnB) - 1;
    const { kept, evicted } = selectWindow([system, ...turnA, ...turnB, ...turnC], { maxTokens: budget });
    expect(kept).toEqual([system, ...turnC]);
    expect(evicted).toEqual([...turnA, ...turnB]);
  });

  it("keeps the newest turn even when it alone is over budget", () => {
    const { kept, evicted } = selectWindow([...turnA, ...turnB], { maxTokens: 1 });
    expect(kept).toEqual(turnB);
    expect(evicted).toEqual(turnA);
  });

  it("keeps turns joined when a tool result arrives after a later human message", () => {
    const lateCall = new AIMessage({ content: "", tool_calls: [{ id: "late", name: "search", args: { q: "x" } }] });
    const interjection = new HumanMessage("still there?");
    const lateResult = new ToolMessage({ content: "found x", tool_call_id: "late" });
    const messages = [...turnA, new HumanMessage("find x"), lateCall, interjection, lateResult, ...turnC];
    const { kept, evicted } = selectWindow(messages, { maxTurns: 2 });
    // Two turns would cut between the call and its result; the joined pair of turns leaves together.
    expect(kept).toEqual(turnC);
    expect(evicted).toEqual(messages.slice(0, messages.length - 2));
    expect(selectWindow(messages, { maxTurns: 3 }).kept).toEqual(messages.slice(2));
  });

  it("returns empty lists for an empty conversation", () => {
    expect(selectWindow([])).toEqual({ kept: [], evicted: [] });
    expect(selectWindow([system])).toEqual({ kept: [system], evicted: [] });
  });

  it("refuses bad options and non-messages with typed errors", () => {
    for (const bad of [{ maxTurns: 0 }, { maxTurns: 1.5 }, { maxTokens: 0 }, { maxTokens: Number.NaN }, { maxTurns: -3 }]) {
      let caught: unknown;
      try {
        selectWindow(turnA, bad);
      } catch (error) {
        caught = error;
      }
      expect(isEngramError(caught, "INVALID_OPTIONS")).toBe(true);
    }
    expect(selectWindow(turnA, { maxTurns: Number.POSITIVE_INFINITY }).kept).toEqual(turnA);
    let caught: unknown;
    try {
      selectWindow([{ role: "user", content: "hi" }] as unknown as BaseMessage[]);
    } catch (error) {
      caught = error;
    }
    expect(isEngramError(caught, "INVALID_CONTENT")).toBe(true);
  });
});
