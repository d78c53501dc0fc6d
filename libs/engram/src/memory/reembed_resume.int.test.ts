import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { openState } from "../state/open.js";
import { collectionsStartingWith } from "../store/list_collections.js";
import { MODEL_KEY, recordStoreModel, REEMBED_PENDING } from "../store/model_marker.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Memory } from "./memory.js";
import { reembed } from "./reembed.js";
import { Other } from "../tests/reembed_targets.js";

describe("reembed towards another model after a run died between a user's swap steps", () => {
  let chroma: TestChroma;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => chroma.stop());

  it("keeps the user's copy, their only records, when the original was already deleted", async () => {
    const url = chroma.server.url;
    const dataDir = join(chroma.dir, "cut");
    const seed = new Memory({ dataDir, chroma: { url }, embeddings: new HashEmbeddings(), writes: "sync" });
    const texts = ["My cat is called Miso.", "I live in Lisbon.", "I drink green tea."];
    for (const text of texts) await seed.add(text, { userId: "ana" });
    await seed.close();

    // What a run towards "hash-target@128" killed right after deleting Ana's original leaves: the
    // folder marked half-moved, and only her copy (as an earlier release named it).
    const client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
    const users: string[] = [];
    for await (const collection of collectionsStartingWith(client, "engram-u-")) users.push(collection.name);
    expect(users).toHaveLength(1);
    const original = await client.getCollection({ name: users[0]!, embeddingFunction: null as never });
    await original.modify({ name: `${users[0]!}-reembed` });
    const pending = `${REEMBED_PENDING}hash-target@128`;
    const opened = openState(undefined, { dataDir });
    await opened.state.setup();
    await opened.state.meta.set(MODEL_KEY, pending, { replace: true });
    await opened.state.close();
    await recordStoreModel(client, "engram", pending, { replace: true });

    // The user changes their mind and moves the folder to another model instead.
    const result = await reembed({ dataDir, chroma: { url }, embeddings: new Other() });
    expect(result).toMatchObject({ to: "hash-other@32", reembedded: 3 });
    const after = new Memory({ dataDir, chroma: { url }, embeddings: new Other(), writes: "sync" });
    try {
      expect((await after.getAll({ userId: "ana", limit: 100 })).map((record) => record.content).sort()).toEqual([...texts].sort());
    } finally {
      await after.close();
    }
  });

  it("a run killed after a user's swap, before the folder's marker changed, is resumed without re-embedding that user", async () => {
    const url = chroma.server.url;
    const dataDir = join(chroma.dir, "swapped");
    const seed = new Memory({ dataDir, chroma: { url }, prefix: "swapped", embeddings: new HashEmbeddings(), writes: "sync" });
    const texts = ["My cat is called Miso.", "I live in Lisbon.", "I drink green tea."];
    for (const text of texts) await seed.add(text, { userId: "ana" });
    await seed.close();
    expect(await reembed({ dataDir, chroma: { url }, prefix: "swapped", embeddings: new Other() })).toMatchObject({ reembedded: 3 });

    // What the kill leaves: every user swapped, the markers still saying "half-moved".
    const client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
    const pending = `${REEMBED_PENDING}hash-other@32`;
    const opened = openState(undefined, { dataDir });
    await opened.state.setup();
    await opened.state.meta.set(MODEL_KEY, pending, { replace: true });
    await opened.state.close();
    await recordStoreModel(client, "swapped", pending, { replace: true });

    const progress: number[] = [];
    const resumed = await reembed({ dataDir, chroma: { url }, prefix: "swapped", embeddings: new Other(), onProgress: ({ done }) => progress.push(done) });
    expect(resumed).toMatchObject({ to: "hash-other@32", reembedded: 0, total: 3 });
    expect(progress.at(-1)).toBe(3);
    const after = new Memory({ dataDir, chroma: { url }, prefix: "swapped", embeddings: new Other(), writes: "sync" });
    try {
      expect((await after.getAll({ userId: "ana", limit: 100 })).map((record) => record.content).sort()).toEqual([...texts].sort());
      expect((await after.search("cat Miso", { userId: "ana", limit: 1 }))[0]?.content).toBe("My cat is called Miso.");
    } finally {
      await after.close();
    }
  });
});
