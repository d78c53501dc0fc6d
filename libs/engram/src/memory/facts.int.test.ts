import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseMessage } from "@langchain/core/messages";
import { isEngramError } from "../core/errors.js";
import type { MemoryRecord } from "../core/types.js";
import { testMemories } from "../tests/memories.js";
import { factModel, promptKind, type RecordingChatModel } from "../tests/fake_chat.js";
import { Memory } from "./memory.js";
import type { FactOptions } from "./facts.js";

const memories = testMemories();
let suite = 0;

/** A Memory with its own data folder and collections, extraction waiting for flush() by default. */
function memory(model: BaseChatModel | undefined, facts: FactOptions = {}, name = `m${(suite += 1)}`): Memory {
  return memories.open(name, { prefix: name, ...(model ? { model } : {}), facts: { debounceMs: 60_000, ...facts } });
}

const extracted = (...facts: Array<[string, string[]?]>): string =>
  JSON.stringify({ facts: facts.map(([text, entities = []]) => ({ text, entities })) });

const decide = (...decisions: object[]): string => JSON.stringify({ decisions });

function prompts(model: RecordingChatModel, kind: "extract" | "reconcile"): string[] {
  return model.calls.filter((messages) => promptKind(messages) === kind).map((messages: BaseMessage[]) => messages.map((m) => m.text).join("\n"));
}

/** Waits for a condition that background work makes true (polling, no fixed sleep). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const facts = (m: Memory, userId: string, includeInvalid = false): Promise<MemoryRecord[]> =>
  m.getAll({ userId, kind: "fact", includeInvalid });

describe("facts: extraction and reconciliation with a chat model", () => {
  it("ADD: extracts from the exchange (fenced JSON in prose), adds without a call when nothing is stored, then asks the model", async () => {
    const model = factModel({
      extract: [
        "Here is what I found:\n```json\n" + extracted(["User has a cat named Miso", ["Miso"]]) + "\n```",
        extracted(["User works at Acme Corp as a nurse", ["Acme Corp"]]),
      ],
      reconcile: [decide({ fact: 0, event: "ADD" })],
    });
    const m = memory(model);
    const added = await m.add([{ role: "user", content: "My cat Miso knocked over my coffee again" }, { role: "assistant", content: "Oh no, poor coffee!" }], { userId: "ann", threadId: "t1" });
    expect(model.calls).toHaveLength(0);
    await m.flush();
    expect(prompts(model, "extract")[0]).toContain("user: My cat Miso knocked over my coffee again\nassistant: Oh no, poor coffee!");
    // Nothing was stored yet, so there was nothing to reconcile against.
    expect(prompts(model, "reconcile")).toHaveLength(0);
    const [miso] = await facts(m, "ann");
    expect(miso).toMatchObject({ kind: "fact", content: "User has a cat named Miso", scope: { userId: "ann" }, source: { threadId: "t1" } });
    expect(miso!.metadata.entities).toBe("miso");
    expect(miso!.metadata.validFrom).toBe(added.results[0]!.createdAt);

    await m.add("I started at Acme Corp as a nurse this week", { userId: "ann", threadId: "t1" });
    await m.flush();
    const [reconcile] = prompts(model, "reconcile");
    // The model saw the stored fact under a short id, never its real id.
    expect(reconcile).toContain('"id": "0"');
    expect(reconcile).toContain("User has a cat named Miso");
    expect(reconcile).not.toContain(miso!.id);
    expect((await facts(m, "ann")).map((f) => f.content).sort()).toEqual(["User has a cat named Miso", "User works at Acme Corp as a nurse"]);
    expect((await facts(m, "ann")).find((f) => f.content.includes("Acme"))!.metadata.entities).toBe("acme corp");
  });

  it("INVALIDATE: 'I live in Paris' then 'I moved to Berlin': Berlin is current, Paris only with includeInvalid and in history", async () => {
    const model = factModel({
      extract: [extracted(["User lives in Paris", ["Paris"]]), extracted(["User lives in Berlin", ["Berlin"]])],
      reconcile: [decide({ fact: 0, event: "INVALIDATE", id: "0" })],
    });
    const m = memory(model);
    await m.add("I live in Paris", { userId: "liv" });
    await m.flush();
    const [paris] = await facts(m, "liv");
    await m.add("I moved to Berlin last month", { userId: "liv" });
    await m.flush();

    const current = await m.search("Where does the user live?", { userId: "liv", filters: { kind: "fact" } });
    expect(current.map((f) => f.content)).toEqual(["User lives in Berlin"]);
    const berlin = current[0]!;
    const all = await m.search("Where does the user live?", { userId: "liv", filters: { kind: "fact" }, includeInvalid: true });
    expect(all.map((f) => f.content).sort()).toEqual(["User lives in Berlin", "User lives in Paris"]);
    const oldParis = all.find((f) => f.id === paris!.id)!;
    expect(oldParis.metadata).toMatchObject({ validUntil: berlin.metadata.validFrom, supersededBy: berlin.id });
    expect(berlin.metadata.supersedes).toBe(paris!.id);
    expect(berlin.metadata.validUntil).toBeUndefined();
    // getAll too: only the current fact unless asked for all; Paris was never deleted.
    expect((await facts(m, "liv")).map((f) => f.content)).toEqual(["User lives in Berlin"]);
    expect((await facts(m, "liv", true)).length).toBe(2);
    const versions = await m.history(paris!.id, { userId: "liv" });
    expect(versions.map((v) => [v.event, v.reason])).toEqual([["ADD", "extract"], ["UPDATE", "invalidate"]]);
    expect(prompts(model, "reconcile")[0]).toContain("User lives in Paris");
  });

  it("UPDATE and NONE: a richer fact replaces the stored one in place; a restated fact changes nothing", async () => {
    const model = factModel({
      extract: [extracted(["User likes pizza"]), extracted(["User loves pepperoni pizza"]), extracted(["User likes pizza"])],
      reconcile: [decide({ fact: 0, event: "UPDATE", id: "0", text: "User loves pizza, pepperoni most of all" }), decide({ fact: 0, event: "NONE", id: "0" })],
    });
    const m = memory(model);
    await m.add("I like pizza", { userId: "pia" });
    await m.flush();
    const [before] = await facts(m, "pia");
    await m.add("Pepperoni is the best pizza, I love it", { userId: "pia" });
    await m.flush();
    const [after, ...rest] = await facts(m, "pia");
    expect(rest).toEqual([]);
    expect(after).toMatchObject({ id: before!.id, content: "User loves pizza, pepperoni most of all" });
    // Re-embedded: a question about pepperoni finds it.
    expect((await m.search("pepperoni", { userId: "pia", filters: { kind: "fact" }, limit: 1 }))[0]!.id).toBe(before!.id);

    await m.add("Did I mention I like pizza?", { userId: "pia" });
    await m.flush();
    expect(prompts(model, "reconcile")[1]).toContain("User loves pizza, pepperoni most of all");
    expect((await facts(m, "pia")).map((f) => f.content)).toEqual(["User loves pizza, pepperoni most of all"]);
    expect((await m.history(before!.id, { userId: "pia" })).map((v) => [v.event, v.reason, v.newContent])).toEqual([
      ["ADD", "extract", "User likes pizza"],
      ["UPDATE", "reconcile", "User loves pizza, pepperoni most of all"],
    ]);
  });

  it("malformed output is sent back once, then refused with MODEL_OUTPUT_INVALID and no fact written", async () => {
    const model = factModel({
      extract: [extracted(["User plays the cello"]), extracted(["User plays the violin"])],
      reconcile: ["I think fact 0 should be added.", decide({ fact: 0, event: "INVALIDATE", id: "9" })],
    });
    const m = memory(model);
    await m.add("I play the cello", { userId: "cel" });
    await m.flush();
    await m.add("I switched to the violin", { userId: "cel" });
    const error = await m.flush().catch((e: unknown) => e);
    expect(isEngramError(error, "MODEL_OUTPUT_INVALID")).toBe(true);
    const [first, retry] = prompts(model, "reconcile");
    expect(retry).toContain(first!);
    expect(retry).toContain("no JSON object was found");
    expect((await facts(m, "cel", true)).map((f) => [f.content, f.metadata.validUntil])).toEqual([["User plays the cello", undefined]]);
    // The exchange itself is stored, and the refused job is not retried forever.
    expect((await m.getAll({ userId: "cel", kind: "episode" })).length).toBe(2);
    await m.flush();
    expect(prompts(model, "reconcile")).toHaveLength(2);
  });

  it("idempotent replay: the same exchange twice extracts once; a fact the model re-adds is not stored twice", async () => {
    const model = factModel({
      extract: [extracted(["User is allergic to peanuts"])],
      reconcile: [decide({ fact: 0, event: "ADD" })],
    });
    const m = memory(model);
    const exchange = [{ id: "m1", role: "user", content: "Careful, I'm allergic to peanuts" }];
    await m.add(exchange, { userId: "pea", threadId: "t" });
    await m.flush();
    await m.add(exchange, { userId: "pea", threadId: "t" });
    await m.flush();
    expect(prompts(model, "extract")).toHaveLength(1);
    // Said again in another thread: extracted again, and the model wrongly says ADD.
    await m.add("Remember: I'm allergic to peanuts", { userId: "pea", threadId: "t2" });
    await m.flush();
    expect(prompts(model, "reconcile")).toHaveLength(1);
    const stored = await facts(m, "pea");
    expect(stored.map((f) => f.content)).toEqual(["User is allergic to peanuts"]);
    expect((await m.history(stored[0]!.id, { userId: "pea" })).map((v) => v.event)).toEqual(["ADD"]);
  });

  it("scope isolation: alice's facts never reach the prompt of bob's reconciliation", async () => {
    const model = factModel({
      extract: [extracted(["User lives in Paris"]), extracted(["User lives in Rome"]), extracted(["User moved to Madrid"])],
      reconcile: [decide({ fact: 0, event: "ADD" })],
    });
    const m = memory(model);
    await m.add("I live in Paris", { userId: "alice" });
    await m.flush();
    await m.add("I live in Rome", { userId: "bob" });
    await m.flush();
    await m.add("I moved to Madrid", { userId: "bob" });
    await m.flush();
    const [bobs] = prompts(model, "reconcile");
    expect(bobs).toContain("User lives in Rome");
    expect(bobs).not.toContain("Paris");
    expect((await facts(m, "bob")).map((f) => f.content).sort()).toEqual(["User lives in Rome", "User moved to Madrid"]);
    expect((await facts(m, "alice")).map((f) => f.content)).toEqual(["User lives in Paris"]);
  });

  it("runs off the hot path: add returns before the model answers; background: false waits like mem0's add", async () => {
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    const slow = factModel({
      extract: [
        async () => {
          await answered;
          return extracted(["User runs marathons"]);
        },
      ],
    });
    const m = memory(slow, { debounceMs: 0 });
    await m.add("I ran my third marathon on Sunday", { userId: "run" });
    // add has returned; the extraction call is under way and cannot answer until released.
    await until(() => slow.calls.length === 1);
    expect(await facts(m, "run")).toEqual([]);
    release();
    await m.flush();
    expect((await facts(m, "run")).map((f) => f.content)).toEqual(["User runs marathons"]);

    const sync = factModel({ extract: [extracted(["User speaks Danish"])] });
    const s = memory(sync, { background: false });
    await s.add("Jeg taler dansk", { userId: "dan" });
    expect((await facts(s, "dan")).map((f) => f.content)).toEqual(["User speaks Danish"]);
  });

  it("infer per call: false skips the model, true without a model is refused before anything is written", async () => {
    const model = factModel({ extract: [extracted(["unused"])] });
    const m = memory(model);
    await m.add("Just storing this", { userId: "inf", infer: false });
    await m.add("A summary, not an exchange", { userId: "inf", kind: "summary" });
    await m.flush();
    expect(model.calls).toHaveLength(0);

    const plain = memory(undefined);
    const error = await plain.add("I live in Oslo", { userId: "inf", infer: true }).catch((e: unknown) => e);
    expect(isEngramError(error, "INVALID_OPTIONS")).toBe(true);
    expect(await plain.getAll({ userId: "inf" })).toEqual([]);
  });

  it("deleteAll drops the user's waiting extraction jobs, so nothing is extracted afterwards", async () => {
    const model = factModel({ extract: [extracted(["User is called Eve"])] });
    const m = memory(model);
    await m.add("Hi, I'm Eve", { userId: "eve" });
    await m.add("Hi, I'm Zed", { userId: "zed" });
    const result = await m.deleteAll({ userId: "eve" });
    expect(result.extractions).toBe(1);
    await m.flush();
    expect(prompts(model, "extract").join("\n")).not.toContain("I'm Eve");
    expect(prompts(model, "extract")[0]).toContain("I'm Zed");
    expect(await facts(m, "eve", true)).toEqual([]);
  });

  it("crash-resume: a job cut off mid-call stays queued and a second Memory on the same folder finishes it", async () => {
    const stuck = factModel({ extract: [extracted(["never"])] }, { hang: true });
    const name = `crash${(suite += 1)}`;
    const first = memory(stuck, { debounceMs: 0 }, name);
    await first.add("My daughter Ada turns five in June", { userId: "kai", threadId: "t" });
    await until(() => stuck.calls.length === 1);
    await first.close();

    const model = factModel({ extract: [extracted(["User's daughter Ada turns five in June", ["Ada", "June"]])] });
    // With offline tagging on (off by default), so the fact's entities merge both lists.
    const second = memories.open(name, { prefix: name, model, facts: { debounceMs: 60_000 }, entities: { extract: true } });
    await second.flush();
    expect(prompts(model, "extract")[0]).toContain("user: My daughter Ada turns five in June");
    const [fact] = await facts(second, "kai");
    expect(fact).toMatchObject({ content: "User's daughter Ada turns five in June", source: { threadId: "t" } });
    // The model's entities, and the offline tagger's ("five" is a number).
    expect(fact!.metadata.entities).toBe("ada|june|five");
  });
});

describe("facts: options", () => {
  it("refuses bad fact options when the Memory is made, before any work", () => {
    const model = factModel({ extract: [extracted()] });
    for (const facts of [{ concurrency: 0 }, { neighbours: 500 }, { debounceMs: -1 }, { background: "yes" as unknown as boolean }]) {
      let error: unknown;
      try {
        new Memory({ dataDir: join(memories.chroma.dir, "never"), model, facts });
      } catch (e) {
        error = e;
      }
      expect(isEngramError(error, "INVALID_OPTIONS")).toBe(true);
    }
  });
});
