import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ChromaClient } from "chromadb";
import { ChromaStore } from "../store/chroma_store.js";
import { episodeRecord } from "../tests/records.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";

/** How many entries the store's per-user maps hold (what a long-running server keeps). */
function kept(store: ChromaStore): { collections: number; logs: number; sinceCheck: number } {
  const inner = store as unknown as { collections: { known: { size: number } }; revisions: { logs: { size: number }; sinceCheck: { size: number } } };
  return { collections: inner.collections.known.size, logs: inner.revisions.logs.size, sinceCheck: inner.revisions.sinceCheck.size };
}

/** A unit vector of 8 dimensions, different for each i. */
function vector(i: number): number[] {
  const v = new Array<number>(8).fill(0);
  v[i % 8] = 1;
  v[(i + 3) % 8] = 0.5;
  return v;
}

/**
 * The store kept a handle to every user's records collection and revision log it ever met (about
 * 2.4 KB each: some 470 MB after 100,000 users seen once), and a counter per user that ever wrote.
 * A server runs for weeks and meets users once each: these are now bounded, least recently used
 * leaving first, and a user whose handles left is found again by name.
 */
describe("the Chroma store keeps a bounded number of per-user handles", () => {
  let chroma: TestChroma;
  let client: ChromaClient;
  beforeAll(async () => {
    chroma = await startTestChroma();
    client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
  });
  afterAll(async () => chroma.stop());

  it("many users written and read once each: at most maxHandles of each, and every user still reads back", async () => {
    const store = new ChromaStore({ client: async () => client, prefix: "handles", maxHandles: 4 });
    const users = Array.from({ length: 14 }, (_, i) => `user-${i}`);
    const revisions = new Map<string, { log: string | null; count: number }>();
    for (const [i, userId] of users.entries()) {
      await store.upsert(userId, [{ record: episodeRecord(userId, `m-${i}`, `memory of ${userId}`, 1_000 + i), embedding: vector(i) }]);
      revisions.set(userId, await store.revision(userId));
    }
    const after = kept(store);
    expect(after.collections).toBeLessThanOrEqual(4);
    expect(after.logs).toBeLessThanOrEqual(4);
    expect(after.sinceCheck).toBeLessThanOrEqual(4);
    // The first users' handles left: they are looked up again, and read the same.
    for (const [i, userId] of users.entries()) {
      expect((await store.get(userId, [`m-${i}`])).map((hit) => hit.record.content)).toEqual([`memory of ${userId}`]);
      expect(await store.revision(userId)).toEqual(revisions.get(userId));
    }
    // A user whose handles left writes to the same log: the revision moves on by one.
    await store.upsert("user-0", [{ record: episodeRecord("user-0", "m-0b", "another memory", 2_000), embedding: vector(20) }]);
    expect(await store.revision("user-0")).toEqual({ log: revisions.get("user-0")!.log, count: revisions.get("user-0")!.count + 1 });
    expect(kept(store).collections).toBeLessThanOrEqual(4);
    await store.close();
  });
});
