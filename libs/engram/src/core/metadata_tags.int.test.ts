/**
 * A record read back holds Engram's own tags (`entities`, `dates`) beside the user's metadata, so
 * one stored with the most keys a user may give (32) came back with 33 or 34: adding it again as it was
 * read (what `engram import` does with an export, or an app copying a memory) was refused with
 * INVALID_METADATA. The tags do not count against the limit; the user's own keys still do.
 */
import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";
import { codeOf, codeOfSync } from "../tests/runs.js";
import { DATES_KEY } from "../scoring/dates.js";
import { ENTITIES_KEY } from "../scoring/entities.js";
import { TAG_METADATA_KEYS, validateMetadata } from "./validate.js";

const memories = testMemories();
const userKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));

describe("metadata at the key limit, read back with Engram's tags", () => {
  it("names exactly the keys the taggers write, and counts neither", () => {
    expect([...TAG_METADATA_KEYS].sort()).toEqual([DATES_KEY, ENTITIES_KEY].sort());
    const tagged = { ...userKeys(32), [ENTITIES_KEY]: "Alice|Bob", [DATES_KEY]: "2024-03-03" };
    expect(validateMetadata(tagged)).toEqual(tagged);
    expect(codeOfSync(() => validateMetadata({ ...userKeys(33), [DATES_KEY]: "2024-03-03" }))).toBe("INVALID_METADATA");
  });

  it("adds again as it was read; 33 keys of the user's own are still refused, before anything is written", async () => {
    const m = memories.open("tags-at-limit");
    const { results } = await m.add("Alice met Bob in Berlin on 3 March 2024.", { userId: "alice", metadata: userKeys(32) });
    await m.flush();
    const stored = (await m.get(results[0]!.id, { userId: "alice" }))!;
    // The date the text names is tagged (DATES_KEY): 33 keys read back.
    expect([stored.metadata[DATES_KEY] !== undefined, Object.keys(stored.metadata).length]).toEqual([true, 33]);

    // As an import does with an exported line: the same content and metadata, into another user.
    expect(await codeOf(m.add(stored.content, { userId: "alice-copy", metadata: stored.metadata }))).toBe("no error");
    await m.flush();
    const [copy] = await m.getAll({ userId: "alice-copy" });
    expect(copy!.metadata).toEqual(stored.metadata);

    expect(await codeOf(m.add("Too many keys of my own.", { userId: "bob", metadata: { ...userKeys(33), [ENTITIES_KEY]: "Bob" } }))).toBe("INVALID_METADATA");
    await m.flush();
    expect(await m.getAll({ userId: "bob" })).toEqual([]);
  });
});
