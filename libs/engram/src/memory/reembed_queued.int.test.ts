import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { freePort } from "../store/chroma_probe.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Memory } from "./memory.js";
import { reembed } from "./reembed.js";
import { Other } from "../tests/reembed_targets.js";

describe("reembed of a folder with writes still queued", () => {
  let chroma: TestChroma;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => chroma.stop());

  it("queued writes reach the store with the new model's vectors when drained, beside the moved ones", async () => {
    const url = chroma.server.url;
    const dataDir = join(chroma.dir, "queued");
    const before = new Memory({ dataDir, chroma: { url }, embeddings: new HashEmbeddings(), writes: "sync" });
    await before.add("My cat is called Miso.", { userId: "ana" });
    await before.close();
    // The server unreachable: the writes wait in the folder's outbox, with the old model's vectors.
    const down = new Memory({ dataDir, chroma: { url: `http://127.0.0.1:${await freePort()}` }, embeddings: new HashEmbeddings(), writes: "sync" });
    expect((await down.add("I live in Lisbon.", { userId: "ana" })).pending).toBe(true);
    expect((await down.add("I drink green tea.", { userId: "bo" })).pending).toBe(true);
    await down.close();

    const result = await reembed({ dataDir, chroma: { url }, embeddings: new Other() });
    expect(result).toMatchObject({ to: "hash-other@32", reembedded: 1, queued: 2 });

    const after = new Memory({ dataDir, chroma: { url }, embeddings: new Other(), writes: "sync" });
    try {
      await after.flush();
      expect((await after.getAll({ userId: "ana", limit: 10 })).map((r) => r.content).sort()).toEqual(["I live in Lisbon.", "My cat is called Miso."]);
      expect((await after.search("green tea", { userId: "bo", limit: 1, ranker: { lexical: 0 } }))[0]?.content).toBe("I drink green tea.");
      expect((await after.search("Lisbon", { userId: "ana", limit: 1, ranker: { lexical: 0 } }))[0]?.content).toBe("I live in Lisbon.");
    } finally {
      await after.close();
    }
  });
});
