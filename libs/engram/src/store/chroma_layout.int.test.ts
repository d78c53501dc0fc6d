import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { ChromaClient, type Collection } from "chromadb";
import { collectionNameFor } from "../core/scope.js";
import type { MemoryRecord } from "../core/types.js";
import { episodeRecord } from "../tests/records.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { ChromaStore } from "./chroma_store.js";
import { TEXT_KEY } from "./chroma_records.js";

/*
 * The row layout: the record's text is kept in the metadata and the document is left empty (Chroma
 * full-text indexes documents, which Engram never queries). Rows written by earlier versions, with
 * the text in the document, must read the same, and so must rows an earlier version writes again
 * over a newer one.
 */

let chroma: TestChroma;
let client: ChromaClient;
let store: ChromaStore;

beforeAll(async () => {
  chroma = await startTestChroma();
  client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
  store = new ChromaStore({ client: async () => client, prefix: "layout" });
});
afterAll(async () => {
  await store.close();
  await chroma.stop();
});

function record(userId: string, id: string, content: string, at: number): MemoryRecord {
  return episodeRecord(userId, id, content, at, { topic: "travel" });
}

const unit = (i: number): number[] => Array.from({ length: 8 }, (_, d) => (d === i ? 1 : 0));

async function rawCollection(userId: string): Promise<Collection> {
  return client.getCollection({ name: collectionNameFor("layout", userId) });
}

/** Every read path's text for `id`: get, list, query (by its own vector) and scan. */
async function textsOf(userId: string, id: string, vector: number[]): Promise<string[]> {
  const [got] = await store.get(userId, [id]);
  const listed = (await store.list(userId)).find((r) => r.id === id);
  const [hit] = await store.query(userId, vector, 1);
  const scanned = (await store.scan(userId)).find((s) => s.record.id === id);
  return [got?.record.content, listed?.content, hit?.record.id === id ? hit.record.content : "(not first)", scanned?.record.content].map(String);
}

it("stores the text once, in the metadata, with an empty document; reads give it back and no internal key leaks into metadata", async () => {
  await store.upsert("ana", [{ record: record("ana", "r1", "Ana flew to Lisbon in May", 1_000), embedding: unit(0) }]);
  const raw = await (await rawCollection("ana")).get({ ids: ["r1"], include: ["documents", "metadatas"] as never });
  expect(raw.documents).toEqual([""]);
  expect(raw.metadatas[0]?.[TEXT_KEY]).toBe("Ana flew to Lisbon in May");
  expect(await textsOf("ana", "r1", unit(0))).toEqual(Array(4).fill("Ana flew to Lisbon in May"));
  const [got] = await store.get("ana", ["r1"]);
  expect(got?.record.metadata).toEqual({ topic: "travel" });
  // Filters Engram's reads use still narrow on the row's keys.
  expect((await store.list("ana", { threadId: "t1", kind: "episode", metadata: { topic: "travel" }, createdAfter: 1_000 })).map((r) => r.id)).toEqual(["r1"]);
  expect(await store.list("ana", { metadata: { topic: "food" } })).toEqual([]);
});

it("reads rows written before the text moved (text in the document), and rewrites them in the new layout", async () => {
  // What the previous version wrote: the document holds the text, no text key in the metadata.
  await store.upsert("bo", [{ record: record("bo", "seed", "seed", 1), embedding: unit(7) }]);
  const raw = await rawCollection("bo");
  await raw.upsert({
    ids: ["old"],
    embeddings: [unit(1)],
    documents: ["Bo adopted a cat named Miso"],
    metadatas: [{ userId: "bo", kind: "episode", importance: 0.5, createdAt: 2_000, updatedAt: 2_000, lastAccessedAt: 2_000, threadId: "t1", role: "user", sourceThreadId: "t1", topic: "pets" }],
  });
  expect(await textsOf("bo", "old", unit(1))).toEqual(Array(4).fill("Bo adopted a cat named Miso"));
  const [before] = await store.get("bo", ["old"]);
  expect(before?.record.metadata).toEqual({ topic: "pets" });
  // An update through this version replaces the text (the old document is emptied, not left to win).
  await store.upsert("bo", [{ record: record("bo", "old", "Bo adopted two cats", 2_000), embedding: unit(1) }]);
  expect(await textsOf("bo", "old", unit(1))).toEqual(Array(4).fill("Bo adopted two cats"));
  const after = await raw.get({ ids: ["old"], include: ["documents"] as never });
  expect(after.documents).toEqual([""]);
});

it("a row an earlier version writes again over a newer one reads the earlier version's text", async () => {
  await store.upsert("cy", [{ record: record("cy", "r", "Cy runs on Sundays", 3_000), embedding: unit(2) }]);
  // The previous version's upsert: text in the document; Chroma merges the metadata, so the newer
  // text key stays behind, stale.
  await (await rawCollection("cy")).upsert({
    ids: ["r"],
    embeddings: [unit(2)],
    documents: ["Cy runs on Saturdays now"],
    metadatas: [{ userId: "cy", kind: "episode", importance: 0.5, createdAt: 3_000, updatedAt: 4_000, lastAccessedAt: 3_000, threadId: "t1" }],
  });
  expect(await textsOf("cy", "r", unit(2))).toEqual(Array(4).fill("Cy runs on Saturdays now"));
});
