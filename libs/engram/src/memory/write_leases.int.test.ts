import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { ChromaStore } from "../store/chroma_store.js";
import type { EpisodicStore, StoredRecord } from "../store/types.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { testMemories } from "../tests/memories.js";
import { Memory } from "./memory.js";
import { gate } from "../tests/interleave.js";

/**
 * Two instances on one data folder: A drains a background write of the user while B runs
 * deleteAll. Whichever way they interleave, the user's record must not come back after B's
 * deleteAll returned (state/sqlite/leases.ts).
 */

describe("deleteAll against another instance's drain in flight", () => {
  const memories = testMemories();
  const alice = { userId: "alice" };

  const pair = (name: string, a: { store?: EpisodicStore; embeddings?: HashEmbeddings }) => {
    const dataDir = join(memories.chroma.dir, name);
    const url = memories.chroma.server.url;
    const embeddings = new HashEmbeddings();
    const writerA = memories.track(new Memory({ embeddings, chroma: { url }, prefix: name, ...a, dataDir, writes: "background" }));
    const eraserB = memories.track(new Memory({ embeddings, chroma: { url }, prefix: name, dataDir, writes: "sync" }));
    return { writerA, eraserB };
  };

  it("a store write already in flight lands before the erase (B waits for it)", async () => {
    const server = memories.chroma.server;
    const inner = new ChromaStore({ client: async () => new ChromaClient({ host: server.host, port: server.port }), prefix: "inflight" });
    const upsertGate = gate();
    const slow: EpisodicStore = Object.assign(Object.create(inner) as EpisodicStore, {
      upsert: async (userId: string, items: StoredRecord[]) => {
        await upsertGate.wait();
        return inner.upsert(userId, items);
      },
      revision: (userId: string) => inner.revision(userId),
    });
    const { writerA, eraserB } = pair("inflight", { store: slow });
    await writerA.add("Alice keeps bees", alice);
    await upsertGate.reached; // A's drain holds its lease and is writing
    const erasing = eraserB.deleteAll(alice);
    await new Promise((resolve) => setTimeout(resolve, 200));
    upsertGate.open();
    await erasing;
    await writerA.flush();
    expect(await eraserB.getAll(alice)).toEqual([]);
    expect(await writerA.search("bees", alice)).toEqual([]);
  });

  it("a write that another instance's drain read before deleteAll is erased, not written afterwards", async () => {
    const embedGate = gate();
    const embeddings = new HashEmbeddings();
    const slowEmbeddings = Object.assign(Object.create(embeddings) as HashEmbeddings, {
      embedDocuments: async (texts: string[]) => {
        await embedGate.wait();
        return embeddings.embedDocuments(texts);
      },
    });
    const { writerA, eraserB } = pair("dropped", { embeddings: slowEmbeddings });
    await writerA.add("Alice keeps bees", alice);
    await embedGate.reached; // A's drain read the write and embeds it
    // A's drain holds the user's drain lock (writer.ts) until its write is applied and completed:
    // the erase waits for it (and then erases the record), or, were it not so, would drop the
    // queued write first (and A's lease check would skip it). Either way nothing comes back.
    const erasing = eraserB.deleteAll(alice);
    await Promise.race([erasing, new Promise((resolve) => setTimeout(resolve, 200))]);
    embedGate.open();
    await erasing;
    await writerA.flush();
    expect(await eraserB.getAll(alice)).toEqual([]);
    expect(await writerA.search("bees", alice)).toEqual([]);
  });
});
