import { beforeAll, describe, expect, it } from "@jest/globals";
import { isEngramError, type EngramErrorCode } from "../core/errors.js";
import { testMemories } from "../tests/memories.js";
import { blockId, CoreBlocks } from "./blocks.js";
import { Memory } from "./memory.js";

const memories = testMemories();
let memory: Memory;

async function codeOf(promise: Promise<unknown>): Promise<EngramErrorCode | unknown> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  return isEngramError(error) ? error.code : error;
}

beforeAll(() => {
  memory = memories.open("data");
});

describe("CoreBlocks against a real Chroma server", () => {
  it("starts every user with Letta's persona and human blocks, nothing stored until a write", async () => {
    const blocks = new CoreBlocks(memory);
    const list = await blocks.list({ userId: "ann" });
    expect(list.map((b) => [b.name, b.limit, b.record])).toEqual([
      ["persona", 2000, null],
      ["human", 2000, null],
    ]);
    expect(list[0]!.value).toContain("helpful assistant");
    expect(list[1]!.value).toBe("");
    expect(await memory.getAll({ userId: "ann" })).toEqual([]);
  });

  it("appends and replaces, stored as one procedure record per block with its history", async () => {
    const blocks = new CoreBlocks(memory);
    const scope = { userId: "alice" };
    await blocks.append(scope, "human", "Name: Alice.");
    await blocks.append(scope, "human", "Diet: vegetarian.");
    const replaced = await blocks.replace(scope, "human", "vegetarian", "vegan");
    expect(replaced.value).toBe("Name: Alice.\nDiet: vegan.");

    const id = blockId("alice", "human");
    const stored = await memory.get(id, scope);
    expect(stored).toMatchObject({ id, kind: "procedure", content: "Name: Alice.\nDiet: vegan.", metadata: { block: "human", limit: 2000 } });
    expect(stored!.scope).toEqual({ userId: "alice" });
    expect((await memory.getAll({ userId: "alice", kind: "procedure" })).length).toBe(1);
    const history = await memory.history(id, scope);
    expect(history.map((h) => h.event)).toEqual(["ADD", "UPDATE", "UPDATE"]);
    expect(history[2]).toMatchObject({ oldContent: "Name: Alice.\nDiet: vegetarian.", newContent: "Name: Alice.\nDiet: vegan." });

    // Another user's blocks are their own.
    expect((await blocks.get({ userId: "bob" }, "human")).value).toBe("");
  });

  it("refuses an edit past the limit, an unknown block or missing text, and writes nothing", async () => {
    const blocks = new CoreBlocks(memory, { blocks: [{ name: "human", limit: 40 }] });
    const scope = { userId: "carol" };
    await blocks.append(scope, "human", "Name: Carol.");
    const id = blockId("carol", "human");
    const before = await memory.history(id, scope);

    const overflow = await blocks.append(scope, "human", "Favourite books: a very long list of titles").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isEngramError(overflow, "BLOCK_LIMIT")).toBe(true);
    expect((overflow as Error).message).toBe(
      'Core block "human" is limited to 40 characters; this edit would make it 56. Shorten or replace what it holds first.',
    );
    expect(await codeOf(blocks.replace(scope, "human", "Carol", "Carol ".repeat(10)))).toBe("BLOCK_LIMIT");
    expect(await codeOf(blocks.replace(scope, "human", "Dave", "Eve"))).toBe("BLOCK_TEXT_NOT_FOUND");
    expect(await codeOf(blocks.append(scope, "persona", "I am a pirate."))).toBe("UNKNOWN_BLOCK");
    expect(await codeOf(blocks.append(scope, "human", "   "))).toBe("INVALID_CONTENT");
    expect(await codeOf(blocks.append({ userId: "" }, "human", "x"))).toBe("INVALID_USER_ID");

    expect(await memory.history(id, scope)).toEqual(before);
    expect((await blocks.get(scope, "human")).value).toBe("Name: Carol.");
  });

  it("keeps both of two parallel appends (edits to one block run in order)", async () => {
    const blocks = new CoreBlocks(memory);
    const scope = { userId: "dan" };
    await Promise.all([blocks.append(scope, "human", "Likes chess."), blocks.append(scope, "human", "Lives in Oslo.")]);
    const value = (await blocks.get(scope, "human")).value;
    expect(value.split("\n").sort()).toEqual(["Likes chess.", "Lives in Oslo."]);
  });

  it("deletes a block emptied by a replace (history keeps it) and falls back to no text", async () => {
    const blocks = new CoreBlocks(memory);
    const scope = { userId: "erin" };
    await blocks.append(scope, "human", "Temporary note.");
    const emptied = await blocks.replace(scope, "human", "Temporary note.", "");
    expect(emptied).toMatchObject({ value: "", record: null });
    const id = blockId("erin", "human");
    expect(await memory.get(id, scope)).toBeNull();
    expect((await memory.history(id, scope)).map((h) => h.event)).toEqual(["ADD", "DELETE"]);
    // And it can be written again.
    await blocks.append(scope, "human", "New note.");
    expect((await blocks.get(scope, "human")).value).toBe("New note.");
  });

  it("gives prompt records for every block, unsaved ones holding their initial text", async () => {
    const blocks = new CoreBlocks(memory);
    await blocks.append({ userId: "fay" }, "human", "Name: Fay.");
    const records = await blocks.records({ userId: "fay" });
    expect(records.map((r) => [r.kind, r.metadata.block, r.content.slice(0, 10)])).toEqual([
      ["procedure", "persona", "I am a hel"],
      ["procedure", "human", "Name: Fay."],
    ]);
  });

  it("relies on Memory.add's explicit id, which names one record and refuses a bad id", async () => {
    const two = [
      { role: "user", content: "one" },
      { role: "user", content: "two" },
    ];
    expect(await codeOf(memory.add(two, { userId: "gil", id: "x" }))).toBe("INVALID_OPTIONS");
    expect(await codeOf(memory.add("text", { userId: "gil", id: "" }))).toBe("INVALID_ID");
    const added = await memory.add("text", { userId: "gil", id: "named" });
    expect(added.results[0]!.id).toBe("named");
    // Adding again under a live id keeps the stored record.
    await memory.add("other text", { userId: "gil", id: "named" });
    expect((await memory.get("named", { userId: "gil" }))!.content).toBe("text");
    expect(await memory.getAll({ userId: "gil" })).toHaveLength(1);
  });

  it("refuses bad block specs when constructed", () => {
    expect(() => new CoreBlocks(memory, { blocks: [] })).toThrow("non-empty array");
    expect(() => new CoreBlocks(memory, { blocks: [{ name: "my block" }] })).toThrow("prompt tag");
    expect(() => new CoreBlocks(memory, { blocks: [{ name: "a" }, { name: "a" }] })).toThrow("configured twice");
    expect(() => new CoreBlocks(memory, { blocks: [{ name: "a", limit: 0 }] })).toThrow("positive integer");
    expect(() => new CoreBlocks(memory, { blocks: [{ name: "a", limit: 3, initial: "four" }] })).toThrow("exceeds its limit");
  });
});
