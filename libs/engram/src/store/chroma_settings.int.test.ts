import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ChromaClient, type Collection } from "chromadb";
import { collectionNameFor } from "../core/scope.js";
import type { MemoryRecord } from "../core/types.js";
import { episodeRecord } from "../tests/records.js";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { NEW_COLLECTION_SETTINGS } from "./chroma_collections.js";
import { startChromaServer } from "./chroma_server.js";
import { ChromaStore } from "./chroma_store.js";

/*
 * The vector-index settings of new collections (store/chroma_collections.ts NEW_COLLECTION_SETTINGS:
 * Chroma saves its index every 50 records instead of 1,000, builds it with fewer candidates and
 * searches it with more). Collections created before keep Chroma's defaults and keep working; writes
 * spread over several index saves all read back after the server restarts.
 */

let chroma: TestChroma;
let client: ChromaClient;
let store: ChromaStore;
const dirs: string[] = [];

beforeAll(async () => {
  chroma = await startTestChroma();
  client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
  store = new ChromaStore({ client: async () => client, prefix: "settings" });
});
afterAll(async () => {
  await store.close();
  await chroma.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function record(userId: string, id: string, content: string, at: number): MemoryRecord {
  return episodeRecord(userId, id, content, at);
}

/** A unit vector of 16 dimensions, different for each i below 120 (two non-zero components). */
function vector(i: number): number[] {
  const v = Array.from({ length: 16 }, () => 0);
  v[i % 16] = 1;
  v[(Math.floor(i / 16) + 1 + (i % 16)) % 16] = 0.5;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

async function rawCollection(userId: string): Promise<Collection> {
  return client.getCollection({ name: collectionNameFor("settings", userId) });
}

it("a collection Engram creates gets the new index settings; one created before keeps Chroma's defaults and still reads and writes", async () => {
  // What earlier versions created: cosine space, Chroma's defaults for everything else.
  const before = await client.createCollection({
    name: collectionNameFor("settings", "old-user"),
    embeddingFunction: null,
    metadata: { "hnsw:space": "cosine", engram: 1 },
  });
  await before.upsert({
    ids: ["old-row"],
    embeddings: [vector(1)],
    documents: ["Olga kept bees in 2019"],
    metadatas: [{ userId: "old-user", kind: "episode", importance: 0.5, createdAt: 1, updatedAt: 1, lastAccessedAt: 1, threadId: "t1" }],
  });

  await store.upsert("old-user", [{ record: record("old-user", "new-row", "Olga sold honey at the market", 2), embedding: vector(2) }]);
  await store.upsert("new-user", [{ record: record("new-user", "r1", "Nadia learns the cello", 3), embedding: vector(3) }]);

  const old = (await rawCollection("old-user")).configuration.hnsw;
  expect([old?.sync_threshold, old?.ef_construction, old?.ef_search, old?.space]).toEqual([1000, 100, 100, "cosine"]);
  const fresh = await rawCollection("new-user");
  expect([fresh.configuration.hnsw?.sync_threshold, fresh.configuration.hnsw?.ef_construction, fresh.configuration.hnsw?.ef_search, fresh.configuration.hnsw?.space]).toEqual([
    NEW_COLLECTION_SETTINGS["hnsw:sync_threshold"],
    NEW_COLLECTION_SETTINGS["hnsw:construction_ef"],
    NEW_COLLECTION_SETTINGS["hnsw:search_ef"],
    "cosine",
  ]);
  expect(fresh.metadata).toMatchObject({ engram: 1 });

  // The old collection answers every read: its old row and the one written now.
  expect((await store.get("old-user", ["old-row", "new-row"])).map((r) => r.record.content).sort()).toEqual([
    "Olga kept bees in 2019",
    "Olga sold honey at the market",
  ]);
  expect((await store.query("old-user", vector(2), 1)).map((h) => h.record.id)).toEqual(["new-row"]);
  expect((await store.query("new-user", vector(3), 1)).map((h) => h.record.id)).toEqual(["r1"]);
});

it("writes of 2-3 records spread over several index saves all read back after the server restarts, each found by its own vector", async () => {
  const dir = await tempDir("engram-settings-");
  dirs.push(dir);
  const path = join(dir, "chroma");
  const n = 230; // an index save about every 50 records, the last few only in Chroma's log
  let server = await startChromaServer({ path });
  const first = new ChromaClient({ host: server.host, port: server.port });
  const writer = new ChromaStore({ client: async () => first, prefix: "settings" });
  let reader: ChromaStore | undefined;
  try {
    for (let start = 0; start < n; start += start % 2 === 0 ? 2 : 3) {
      const items = [];
      for (let i = start; i < Math.min(n, start + (start % 2 === 0 ? 2 : 3)); i += 1) {
        items.push({ record: record("writer", `w${i}`, `turn ${i}`, 10 + i), embedding: vector(i % 120) });
      }
      await writer.upsert("writer", items);
    }
    await writer.close();
    await server.stop();
    server = await startChromaServer({ path });
    const second = new ChromaClient({ host: server.host, port: server.port });
    reader = new ChromaStore({ client: async () => second, prefix: "settings" });
    const ids = Array.from({ length: n }, (_, i) => `w${i}`);
    const got = await reader.get("writer", ids);
    expect(got.map((r) => r.record.id).sort()).toEqual([...ids].sort());
    expect(new Set(got.map((r) => r.record.content)).size).toBe(n);
    // Each of the first 120 records is the only one with its vector: a top-1 query finds it.
    for (let i = 0; i < 120; i += 7) {
      const hits = await reader.query("writer", vector(i), 2);
      expect(hits.map((h) => h.record.id)).toContain(`w${i}`);
      expect(hits[0]?.distance).toBeLessThan(1e-4);
    }
  } finally {
    await writer.close();
    await reader?.close();
    await server.stop();
  }
});
