import { describe, expect, it } from "@jest/globals";
import type { BaseMessage } from "@langchain/core/messages";
import { isWellFormed } from "../core/text.js";
import { testMemories } from "../tests/memories.js";
import { factModel, promptKind, type RecordingChatModel } from "../tests/fake_chat.js";
import { CoreBlocks } from "./blocks.js";

/*
 * Text a model wrote (extracted facts, reconciled texts, core blocks an agent edits through its
 * tools) passes the same text safety as a user's (core/text.ts): a lone surrogate becomes U+FFFD,
 * controls and unclosed bidi marks are removed, and a text left blank is not stored. A driver never
 * sees it broken: Chroma's JSON parser refuses a lone surrogate, PostgreSQL refuses NUL.
 */

const memories = testMemories();

const extracted = (...facts: Array<[string, string[]?]>): string => JSON.stringify({ facts: facts.map(([text, entities = []]) => ({ text, entities })) });
const decide = (...decisions: object[]): string => JSON.stringify({ decisions });

/** C0 controls but tab, LF and CR; DEL; C1 controls; bidi embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

function prompts(model: RecordingChatModel, kind: "extract" | "reconcile"): string[] {
  return model.calls.filter((messages) => promptKind(messages) === kind).map((messages: BaseMessage[]) => messages.map((m) => m.text).join("\n"));
}

function expectSafe(text: string): void {
  expect(isWellFormed(text)).toBe(true);
  expect(text).not.toMatch(UNSAFE);
}

describe("text a model wrote is made safe like a user's before it is stored", () => {
  it("extracted facts and their entities: repaired; a fact left blank is not stored", async () => {
    const model = factModel({
      extract: [
        extracted(
          ["User\u0000 drinks green tea every \u202Emorning\uD83D", ["\u0007Green tea", "\u200B"]],
          ["\u200B\uFEFF \u0085", ["nothing"]],
        ),
        extracted(["User switched to black tea\u009B\uDC00"]),
      ],
      reconcile: [decide({ fact: 0, event: "UPDATE", id: "0", text: "User drinks black tea\u0000 now, \u2066not green\uDBFF" })],
    });
    const memory = memories.open("facts", { model, facts: { debounceMs: 60_000 } });
    await memory.add("I drink green tea every morning", { userId: "tea", threadId: "t" });
    await memory.flush();
    expect(prompts(model, "extract")[0]).toContain("user: I drink green tea every morning");
    const [fact, ...blank] = await memory.getAll({ userId: "tea", kind: "fact" });
    expect(blank).toEqual([]);
    expectSafe(fact!.content);
    expect(fact!.content).toContain("User drinks green tea every morning");
    expect(fact!.metadata.entities).toBe("green tea");

    await memory.add("I switched to black tea", { userId: "tea", threadId: "t" });
    await memory.flush();
    // The model was shown the stored (repaired) fact, and its reconciled text is repaired too.
    expect(prompts(model, "reconcile")[0]).toContain("User drinks green tea every morning");
    const [updated, ...rest] = await memory.getAll({ userId: "tea", kind: "fact" });
    expect(rest).toEqual([]);
    expect(updated!.id).toBe(fact!.id);
    expectSafe(updated!.content);
    expect(updated!.content).toContain("User drinks black tea now, not green");
    for (const version of await memory.history(fact!.id, { userId: "tea" })) expectSafe(version.newContent ?? "");
  });

  it("core blocks an agent edits: appended and replacing texts are repaired", async () => {
    const memory = memories.open("blocks");
    const blocks = new CoreBlocks(memory);
    const scope = { userId: "blk" };
    await blocks.append(scope, "human", "Name: Ana\u0000 \u202Bfrom Porto\uD800");
    const replaced = await blocks.replace(scope, "human", "Porto", "Lisbon\u0001\uDFFF");
    expectSafe(replaced.value);
    expect(replaced.value).toContain("Name: Ana from Lisbon");
    const [stored] = await memory.getAll({ userId: "blk", kind: "procedure" });
    expect(stored!.content).toBe(replaced.value);
  });
});
