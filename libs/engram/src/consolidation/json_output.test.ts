import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import { z } from "zod";
import { isEngramError } from "../core/errors.js";
import { RecordingChatModel } from "../tests/fake_chat.js";
import { invokeForJson, jsonCandidates, parseJsonOutput } from "./json_output.js";

const schema = z.object({ facts: z.array(z.object({ text: z.string().min(1) })) });

describe("parseJsonOutput", () => {
  it("reads bare JSON, fenced JSON, JSON in prose and after a think block", () => {
    const expected = { facts: [{ text: "User lives in Paris" }] };
    const json = JSON.stringify(expected);
    for (const reply of [
      json,
      "```json\n" + json + "\n```",
      "Sure! Here are the facts:\n```\n" + json + "\n```\nLet me know if you need more.",
      `I found one fact: ${json} That's all.`,
      `<think>maybe {"facts": 1}</think>\n${json}`,
    ]) {
      expect(parseJsonOutput(reply, schema)).toEqual({ ok: true, value: expected });
    }
  });

  it("skips a bracketed aside that is not the answer and keeps braces inside strings", () => {
    const reply = 'Facts [as asked]: {"facts": [{"text": "Likes {curly} braces and \\"quotes\\""}]}';
    expect(parseJsonOutput(reply, schema)).toEqual({ ok: true, value: { facts: [{ text: 'Likes {curly} braces and "quotes"' }] } });
  });

  it("says what is wrong: no JSON, or JSON that does not match", () => {
    expect(parseJsonOutput("I could not find any facts.", schema)).toEqual({ ok: false, error: "no JSON object was found in the reply." });
    const wrong = parseJsonOutput('{"facts": [{"fact": "x"}]}', schema);
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.error).toMatch(/facts\[0\]\.text/);
  });

  // A model looping on one token until its limit, or cut off mid-JSON, must not hold the event
  // loop (every user's turn waits on it): each of these took minutes before, now milliseconds.
  // No time is asserted; the test would only end long after Jest's timeout.
  it("reads degenerate replies in one pass or a few: no JSON is no JSON, and the JSON after junk is found", () => {
    expect(parseJsonOutput("{".repeat(200_000), schema)).toEqual({ ok: false, error: "no JSON object was found in the reply." });
    expect(parseJsonOutput(`"${"[".repeat(200_000)}`, schema)).toEqual({ ok: false, error: "no JSON object was found in the reply." });
    const cut = '{"facts": [' + '{"text": "User likes tea", "entities": ['.repeat(20_000);
    expect(parseJsonOutput(cut, schema).ok).toBe(false);
    const json = JSON.stringify({ facts: [{ text: "User lives in Paris" }] });
    expect(parseJsonOutput(`${"<think>".repeat(150_000)}\n${json}`, schema)).toEqual({ ok: true, value: { facts: [{ text: "User lives in Paris" }] } });
    expect(parseJsonOutput(`<THINK>{"facts": 1}</Think> a <think>[1]</think>${json}`, schema)).toEqual({ ok: true, value: { facts: [{ text: "User lives in Paris" }] } });
  });

  it("lists fence contents first", () => {
    expect(jsonCandidates('a {"x":1} ```json\n{"y":2}\n```')[0]).toBe('{"y":2}');
  });
});

describe("invokeForJson", () => {
  it("retries once with the error in the prompt and returns the corrected answer", async () => {
    const model = new RecordingChatModel({ replies: ["no idea", '{"facts": []}'] });
    const value = await invokeForJson(model, [new HumanMessage("extract")], schema, { what: "test" });
    expect(value).toEqual({ facts: [] });
    expect(model.calls).toHaveLength(2);
    expect(model.prompts[1]).toContain("no JSON object was found");
    expect(model.prompts[1]).toContain("no idea");
  });

  it("sends back the beginning of an enormous unusable reply, not all of it", async () => {
    const model = new RecordingChatModel({ replies: ["{".repeat(1_000_000), '{"facts": []}'] });
    expect(await invokeForJson(model, [new HumanMessage("extract")], schema, { what: "test" })).toEqual({ facts: [] });
    const retry = model.prompts[1]!;
    expect(retry.length).toBeLessThan(60_000);
    expect(retry).toContain("950000 more characters, is left out");
  });

  it("refuses with MODEL_OUTPUT_INVALID after the retry also fails", async () => {
    const model = new RecordingChatModel({ replies: ["nothing", '{"facts": "none"}'] });
    const error = await invokeForJson(model, [new HumanMessage("extract")], schema, { what: "fact extraction" }).catch((e: unknown) => e);
    expect(isEngramError(error, "MODEL_OUTPUT_INVALID")).toBe(true);
    expect((error as Error).message).toContain("fact extraction");
    expect(model.calls).toHaveLength(2);
  });

  it("wraps a failing model in MODEL_ERROR with the cause", async () => {
    const model = new RecordingChatModel({ replies: [() => { throw new Error("rate limited"); }] });
    const error = await invokeForJson(model, [new HumanMessage("x")], schema, { what: "test" }).catch((e: unknown) => e);
    expect(isEngramError(error, "MODEL_ERROR")).toBe(true);
    expect(((error as Error).cause as Error).message).toBe("rate limited");
  });
});
