import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";

/*
 * Chroma merges an upsert's metadata into the stored row's. An update that removes a key (a TTL,
 * a user metadata key, the dates of a rewritten text) must not leave the old value behind in the
 * store, where reads, filters and expiry would still see it.
 */

const suite = testMemories();

describe("an update that removes keys removes them from the store", () => {
  it("a removed TTL no longer expires the memory, and a dropped metadata key is neither read nor filtered on", async () => {
    let now = 1_800_000_000_000;
    const memory = suite.open("replaced", { clock: () => now, writes: "sync" });
    const { results: [added] } = await memory.add("I moved to Porto yesterday.", {
      userId: "ana",
      expiresAt: now + 60_000,
      metadata: { mood: "happy", topic: "moves" },
    });
    const id = added!.id;
    expect((await memory.get(id, { userId: "ana" }))?.metadata).toMatchObject({ mood: "happy", dates: expect.any(String) });

    now += 1_000;
    await memory.update(id, { content: "I live in Porto.", expiresAt: null, metadata: { topic: "moves" } }, { userId: "ana" });
    await memory.flush();

    // A second Memory over the same folder reads the store, not the first one's in-process copy.
    const reader = suite.open("replaced", { clock: () => now });
    now += 120_000; // past the removed TTL
    const got = await reader.get(id, { userId: "ana" });
    expect(got?.content).toBe("I live in Porto.");
    expect(got?.expiresAt).toBeUndefined();
    expect(got?.metadata).toEqual({ topic: "moves" });
    expect((await reader.getAll({ userId: "ana" })).map((r) => r.id)).toEqual([id]);
    expect((await reader.search("Where do I live?", { userId: "ana", filters: { metadata: { mood: "happy" } } })).map((r) => r.id)).toEqual([]);
    expect((await reader.search("Where do I live?", { userId: "ana", filters: { metadata: { topic: "moves" } } })).map((r) => r.id)).toEqual([id]);
  });
});
