import { afterEach, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { isEngramError } from "../core/errors.js";
import { deterministicId } from "../core/ids.js";
import { isWellFormed } from "../core/text.js";
import type { MemoryRecord } from "../core/types.js";
import { SqliteState } from "../state/sqlite/index.js";
import { testMemories } from "../tests/memories.js";
import type { WriteOp } from "./writer.js";
import { warningsWithCode } from "../tests/warnings.js";

const memories = testMemories();

let stopWarnings: (() => void) | undefined;
afterEach(() => stopWarnings?.());

/** The message: cut inside the emoji, a lone high surrogate at the end. */
const BROKEN = "I love this song 🎵".slice(0, 18);

describe("text that Chroma cannot take never reaches it", () => {
  it("stores a message cut inside an emoji (repaired) with its reply, and a later search works", async () => {
    const warnings = warningsWithCode("ENGRAM_WRITE_REFUSED");
    stopWarnings = warnings.stop;
    const m = memories.open("emoji", { writes: "background" });
    expect(isWellFormed(BROKEN)).toBe(false);
    const added = await m.add(
      [
        { role: "user", content: BROKEN },
        { role: "assistant", content: "Glad you like it! Which song is it?" },
      ],
      { userId: "alice", threadId: "t1" },
    );
    expect(added.results.map((record) => record.content)).toEqual(["I love this song \uFFFD", "Glad you like it! Which song is it?"]);
    await m.flush();
    const hits = await m.search("which song do I love?", { userId: "alice" });
    expect(hits.map((hit) => hit.content).sort()).toEqual(["Glad you like it! Which song is it?", "I love this song \uFFFD"]);
    expect(warnings.seen).toEqual([]);
  });

  it("removes NUL, controls and unpaired bidi controls from content and metadata; refuses invisible-only text and unsafe ids", async () => {
    const m = memories.open("controls", { writes: "sync" });
    const added = await m.add("Bob\u0000 lives in\u001B Paris \u202E", { userId: "bob", metadata: { note: "ok\u0000\uD800" } });
    const stored = await m.get(added.results[0]!.id, { userId: "bob" });
    expect(stored?.content).toBe("Bob lives in Paris");
    expect(stored?.metadata.note).toBe("ok\uFFFD");
    const refusals: Array<[() => Promise<unknown>, string]> = [
      [() => m.add("\u200B\u200D\u2060", { userId: "bob" }), "INVALID_CONTENT"],
      [() => m.add("fine", { userId: "bob\uD83C" }), "INVALID_USER_ID"],
      [() => m.add("fine", { userId: "bob", threadId: "t\u0000" }), "INVALID_SCOPE"],
      [() => m.add("fine", { userId: "bob", metadata: { "k\u202E": 1 } }), "INVALID_METADATA"],
      [() => m.get("id\uDC00", { userId: "bob" }), "INVALID_ID"],
      [() => m.search("\uFEFF \u200B", { userId: "bob" }), "INVALID_CONTENT"],
    ];
    for (const [call, code] of refusals) {
      const error = await call().then(() => undefined, (caught: unknown) => caught);
      expect(isEngramError(error, code as never)).toBe(true);
    }
    expect((await m.getAll({ userId: "bob" })).map((record) => record.content)).toEqual(["Bob lives in Paris"]);
  });

  it("skips a message of invisible characters only and stores the rest of the exchange", async () => {
    const m = memories.open("invisible", { writes: "sync" });
    const added = await m.add(
      [
        { role: "user", content: "\u200B\u200B" },
        { role: "assistant", content: "It seems your message was empty." },
      ],
      { userId: "carol" },
    );
    expect(added.results.map((record) => record.content)).toEqual(["It seems your message was empty."]);
    expect(added.warnings.join(" ")).toMatch(/no text content/);
  });
});

describe("text longer than maxContentChars", () => {
  it("is refused by a plain add, and with oversize: \"split\" stored once as linked parts, however often it is replayed", async () => {
    const m = memories.open("split", { writes: "sync", maxContentChars: 1_000 });
    const text = Array.from({ length: 60 }, (_, i) => `Sentence ${i} tells the story of the lighthouse keeper, part ${i}.`).join(" ");
    expect(text.length).toBeGreaterThan(3_000);
    const refused = await m.add(text, { userId: "erin" }).then(() => undefined, (error: unknown) => error);
    expect(isEngramError(refused, "CONTENT_TOO_LARGE")).toBe(true);
    const message = { role: "assistant", content: text, id: "reply-1" };
    const first = await m.add([message], { userId: "erin", threadId: "t1", oversize: "split" });
    const again = await m.add([message], { userId: "erin", threadId: "t1", oversize: "split" });
    expect(again.results.map((record) => record.id)).toEqual(first.results.map((record) => record.id));
    const stored = await m.getAll({ userId: "erin" });
    expect(stored).toHaveLength(first.results.length);
    expect(stored.length).toBeGreaterThanOrEqual(4);
    const ordered = [...stored].sort((a, b) => Number(a.metadata.part) - Number(b.metadata.part));
    expect(ordered.map((record) => record.metadata.part)).toEqual(ordered.map((_, i) => i + 1));
    expect(ordered.every((record) => record.metadata.parts === stored.length && record.content.length <= 1_000)).toBe(true);
    expect(ordered.every((record) => record.source.messageIds?.[0] === "reply-1" && record.source.threadId === "t1")).toBe(true);
    expect(ordered.map((record) => record.content).join(" ")).toBe(text);
  });
});

describe("one refused record never takes its batch-mates with it", () => {
  /**
   * Raw outbox rows between two valid records: the broken text of the issue, as an older version
   * of Engram (without text safety) queued it, and a record Chroma refuses for good (a metadata
   * key holding a lone surrogate, which Chroma's JSON parser refuses; a vector of another size than
   * the collection's is no longer one: that is another model's, EMBEDDINGS_MISMATCH, kept queued).
   */
  async function queueRaw(dataDir: string, userId: string): Promise<{ bad: string; good: string[] }> {
    const state = new SqliteState({ path: dataDir });
    const outbox = state.outbox<WriteOp>();
    const record = (content: string, n: number): MemoryRecord => ({
      id: deterministicId("raw", userId, String(n)),
      scope: { userId },
      kind: "episode",
      content,
      importance: 0.5,
      createdAt: 1_700_000_000_000 + n,
      updatedAt: 1_700_000_000_000 + n,
      lastAccessedAt: 1_700_000_000_000 + n,
      source: {},
      metadata: {},
    });
    const contents = ["Dave plays the cello in an orchestra", BROKEN, "Dave has a dog named Bruno", "Dave's favourite composer is Dvořák"];
    const ops: WriteOp[] = contents.map((content, n) => ({
      op: "upsert",
      record: n === 2 ? { ...record(content, n), metadata: { "mood\uD800": "calm" } } : record(content, n),
      history: { memoryId: record(content, n).id, event: "ADD", oldContent: null, newContent: content, reason: "add", at: 1 },
    }));
    await outbox.enqueue(ops.map((op) => ({ userId, key: `upsert:${(op as { record: MemoryRecord }).record.id}`, payload: op })));
    await state.close();
    const ids = ops.map((op) => (op as { record: MemoryRecord }).record.id);
    return { bad: ids[2]!, good: [ids[0]!, ids[1]!, ids[3]!] };
  }

  it("the drain stores the valid records (broken text repaired), drops only the refused one with a warning, and search does not fail", async () => {
    const dataDir = join(memories.chroma.dir, "refused");
    const first = memories.open("refused");
    await first.getAll({ userId: "dave" }); // creates the data folder and its database
    await first.close();
    const { bad, good } = await queueRaw(dataDir, "dave");

    const warnings = warningsWithCode("ENGRAM_WRITE_REFUSED");
    stopWarnings = warnings.stop;
    const m = memories.open("refused", { writes: "background" });
    // The drain stores the others (broken text repaired) and drops the refused one; search then
    // finds the stored ones and does not fail.
    await m.flush();
    const hits = await m.search("What instrument does Dave play?", { userId: "dave" });
    expect(hits.map((hit) => hit.id).sort()).toEqual([...good].sort());
    expect(hits.map((hit) => hit.content)).toContain("I love this song \uFFFD");
    expect(warnings.seen).toHaveLength(1);
    expect(warnings.seen[0]).toContain(bad);
    // Nothing is left to block later writes, and the next write and read go through.
    await m.add("Dave also sings in a choir", { userId: "dave" });
    const flushed = await m.flush();
    expect(flushed.pending).toBe(0);
    expect((await m.getAll({ userId: "dave" })).map((record) => record.content).sort()).toEqual([
      "Dave also sings in a choir",
      "Dave plays the cello in an orchestra",
      "Dave's favourite composer is Dvořák",
      "I love this song \uFFFD",
    ]);
    expect((await m.history(bad, { userId: "dave" })).length).toBe(0);
  });
});
