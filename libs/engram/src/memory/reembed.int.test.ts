import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { EngramStore } from "../adapters/store/engram_store.js";
import type { ScoredMemory } from "../core/types.js";
import { embeddingsIdentity } from "../embeddings/identity.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { PeerError, peerSuite } from "../tests/peers.js";
import { Memory } from "./memory.js";
import type { AddResult } from "./options.js";
import { reembed } from "./reembed.js";

const alice = { userId: "alice" };

/** What a peer's call rejected with (it must reject). */
async function refusal(call: Promise<unknown>): Promise<PeerError> {
  const error = await call.then(
    (result) => new Error(`expected a refusal, got ${JSON.stringify(result).slice(0, 200)}`),
    (error: unknown) => error,
  );
  if (!(error instanceof PeerError)) throw error;
  return error;
}

describe("reembed with another instance running on the same server", () => {
  const suite = peerSuite();
  const { start } = suite;

  it("a running instance with the old model does not keep the old vectors: its next search and write are refused as a new one's would be", async () => {
    const url = suite.chroma.server.url;
    const moved = join(suite.chroma.dir, "moved");
    const other = join(suite.chroma.dir, "other");
    // Both folders written by the 64-dimension test embedding, sharing the server by url.
    const writer = start({ dataDir: moved, chromaUrl: url, embeddings: "hash" });
    for (const text of ["My cat is called Miso.", "I live in Lisbon.", "I drink green tea."]) await writer.call<AddResult>("add", text, alice);
    await writer.close();
    const reader = start({ dataDir: other, chromaUrl: url, embeddings: "hash" });
    const warm = async () => (await reader.call<ScoredMemory[]>("search", "cat Miso", { ...alice, limit: 3 })).map((hit) => hit.content);
    expect(await warm()).toContain("My cat is called Miso.");
    expect(await warm()).toContain("My cat is called Miso."); // warm: served from the reader's index

    // The moved folder goes to the static model (512 dimensions), the reader still running.
    const staticModel = new StaticEmbeddings();
    const result = await reembed({ dataDir: moved, chroma: { url }, embeddings: staticModel });
    expect(result).toMatchObject({ to: staticModel.modelId, reembedded: 3, collections: 1 });

    // Without the revision reset, the reader's index of the old vectors stayed "current" and this
    // search answered from it. Now the reader reloads, finds the collection replaced, reads the
    // model marker again, and refuses like a Memory opened now with its model.
    const searched = await refusal(reader.call("search", "cat Miso", { ...alice, limit: 3 }));
    expect(searched.code).toBe("EMBEDDINGS_MISMATCH");
    expect(searched.message).toContain(staticModel.modelId);
    // Nor does it write its 64-dimension vectors beside the new ones.
    const added = await refusal(reader.call("add", "I also like jazz.", alice));
    expect(added.code).toBe("EMBEDDINGS_MISMATCH");

    // The other folder moves too (the collections are moved already: only its marker); a Memory
    // on it with the new model finds the re-embedded records, and nothing the reader wrote.
    expect(await reembed({ dataDir: other, chroma: { url }, embeddings: staticModel })).toMatchObject({ reembedded: 0 });
    const after = new Memory({ dataDir: other, chroma: { url }, embeddings: staticModel, writes: "sync" });
    try {
      const all = await after.getAll({ ...alice, limit: 100 });
      expect(all.map((record) => record.content).sort()).toEqual(["I drink green tea.", "I live in Lisbon.", "My cat is called Miso."]);
      const hits = await after.search("Which pet do I have?", { ...alice, limit: 1, ranker: { lexical: 0 } });
      expect(hits[0]?.content).toBe("My cat is called Miso.");
    } finally {
      await after.close();
    }
  });
});

describe("reembed and the LangGraph store", () => {
  const suite = peerSuite();

  it("leaves EngramStore's items as they were, says so in its result, and the store keeps working with its own model", async () => {
    const url = suite.chroma.server.url;
    const dataDir = join(suite.chroma.dir, "with-store");
    const storeModel = new HashEmbeddings();
    const store = new EngramStore({ dataDir, chroma: { url }, index: { embeddings: storeModel, fields: ["text"] } });
    await store.put(["alice", "notes"], "cat", { text: "My cat is called Miso." });
    await store.put(["bob", "notes"], "tea", { text: "I drink green tea." });
    await store.close();
    const memory = new Memory({ dataDir, chroma: { url }, embeddings: storeModel, writes: "sync" });
    await memory.add("I live in Lisbon.", alice);
    await memory.close();

    const staticModel = new StaticEmbeddings();
    const result = await reembed({ dataDir, chroma: { url }, embeddings: staticModel });
    expect(result).toMatchObject({ to: staticModel.modelId, reembedded: 1, store: { collections: 2, model: embeddingsIdentity(storeModel) } });

    // The store was not touched: still its model's, and searchable with it.
    const again = new EngramStore({ dataDir, chroma: { url }, index: { embeddings: storeModel, fields: ["text"] } });
    try {
      const hits = await again.search(["alice"], { query: "cat Miso" });
      expect(hits.map((hit) => hit.key)).toEqual(["cat"]);
    } finally {
      await again.close();
    }
    // A folder without a store says so too.
    expect((await reembed({ dataDir: join(suite.chroma.dir, "no-store"), chroma: { url }, embeddings: staticModel, prefix: "lonely" })).store).toEqual({ collections: 0 });
  });
});
