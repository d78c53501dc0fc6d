import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import type { MemoryRecord, ScoredMemory } from "../core/types.js";
import type { AddResult } from "./options.js";
import { tempDir } from "../tests/chroma.js";
import { peerSuite, type Peer } from "../tests/peers.js";

/**
 * Two real processes share one store: a write one of them acknowledged is never contradicted by a
 * later read in the other (no deleted memory returned, no old content after an update), though
 * the reader keeps an in-process index that was warm before the write.
 */

const alice = { userId: "alice" };

async function added(peer: Peer, text: string): Promise<string> {
  const result = await peer.call<AddResult>("add", text, alice);
  return result.results[0]!.id;
}

async function searchIds(peer: Peer, query: string): Promise<ScoredMemory[]> {
  return peer.call<ScoredMemory[]>("search", query, { ...alice, limit: 50 });
}

/** The scenario of the issue, run by `reader` (A) and `writer` (B) on a shared store. */
async function scenario(reader: Peer, writer: Peer): Promise<void> {
  const tea = await added(reader, "The user drinks green tea every morning");
  const city = await added(reader, "The user lives in Paris, near the river");
  await added(reader, "The user plays chess on weekends");

  // A's index is warm, and holds the tea record.
  expect((await searchIds(reader, "green tea")).map((hit) => hit.id)).toContain(tea);

  // B deletes a record and adds another: the user's count is unchanged.
  await writer.call("delete", tea, alice);
  const coffee = await added(writer, "The user switched to black coffee");
  const afterSwap = await searchIds(reader, "green tea");
  expect(afterSwap.map((hit) => hit.id)).not.toContain(tea);
  expect(afterSwap.map((hit) => hit.id)).toContain(coffee);

  // B updates a record: A's search and get both return the new content.
  await writer.call("update", city, "The user lives in Berlin now", alice);
  const hits = await searchIds(reader, "where does the user live");
  expect(hits.find((hit) => hit.id === city)?.content).toBe("The user lives in Berlin now");
  expect((await reader.call<MemoryRecord | null>("get", city, alice))?.content).toBe("The user lives in Berlin now");

  // B erases the user and writes as many records again: nothing of before comes back in A.
  await writer.call("deleteAll", alice);
  const fresh = [
    await added(writer, "The user owns a grey cat"),
    await added(writer, "The user is learning Japanese"),
    await added(writer, "The user runs on Tuesdays"),
  ];
  const afterErase = (await searchIds(reader, "user")).map((hit) => hit.id);
  expect(afterErase.sort()).toEqual([...fresh].sort());
  expect(await reader.call("get", tea, alice)).toBeNull();

  // A adds again what it added first and B deleted since: stored again, not taken for a replay
  // of A's own add (A's history still calls it live when A has its own data folder).
  const again = await added(reader, "The user drinks green tea every morning");
  expect(again).toBe(tea);
  expect((await writer.call<MemoryRecord | null>("get", tea, alice))?.content).toBe("The user drinks green tea every morning");
  expect((await searchIds(writer, "green tea")).map((hit) => hit.id)).toContain(tea);

  // And the other way round: A's writes reach B's warm index.
  await reader.call("update", fresh[1], "The user is learning Korean", alice);
  expect((await searchIds(writer, "learning")).find((hit) => hit.id === fresh[1])?.content).toBe("The user is learning Korean");
}

describe("coherence across processes", () => {
  const suite = peerSuite();
  const { start } = suite;

  it("two processes on one data folder (embedded server)", async () => {
    const dataDir = join(await tempDir("engram-coherence-"), "data");
    const reader = start({ dataDir, embeddings: "local" });
    // The reader starts the folder's server; the writer then finds and reuses it.
    await reader.call("getAll", alice);
    const writer = start({ dataDir, embeddings: "local" });
    await scenario(reader, writer);
  });

  it("two data folders sharing one Chroma server by url", async () => {
    const reader = start({ dataDir: join(suite.chroma.dir, "a"), chromaUrl: suite.chroma.server.url, embeddings: "local" });
    const writer = start({ dataDir: join(suite.chroma.dir, "b"), chromaUrl: suite.chroma.server.url, embeddings: "local" });
    await scenario(reader, writer);
  });

  it("background writes: acknowledged by flush(), then seen by the other process", async () => {
    const options = { chromaUrl: suite.chroma.server.url, embeddings: "local" as const, writes: "background" as const };
    const reader = start({ ...options, dataDir: join(suite.chroma.dir, "c") });
    const writer = start({ ...options, dataDir: join(suite.chroma.dir, "d") });
    const user = { userId: "bob" };
    const kept = (await reader.call<AddResult>("add", "Bob collects old maps", user)).results[0]!.id;
    const gone = (await reader.call<AddResult>("add", "Bob hates olives", user)).results[0]!.id;
    await reader.call("flush");
    expect((await reader.call<ScoredMemory[]>("search", "olives", user)).map((hit) => hit.id)).toContain(gone);
    await writer.call("delete", gone, user);
    await writer.call("update", kept, "Bob collects old coins", user);
    await writer.call("add", "Bob loves olives now", user);
    await writer.call("flush");
    const hits = await reader.call<ScoredMemory[]>("search", "olives", user);
    expect(hits.map((hit) => hit.id)).not.toContain(gone);
    expect(hits.find((hit) => hit.id === kept)?.content).toBe("Bob collects old coins");
  });
});
