import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import type { MemoryRecord } from "../core/types.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { peerSuite } from "../tests/peers.js";
import { Memory } from "./memory.js";
import type { AddResult } from "./options.js";
import { reembed } from "./reembed.js";
import { SlowTarget, Target } from "../tests/reembed_targets.js";

const alice = { userId: "alice" };

describe("reembed beside an application still writing the folder", () => {
  const suite = peerSuite();

  it("loses no add or update, and brings back no deleted memory, written while a user's collection was being copied", async () => {
    const url = suite.chroma.server.url;
    const dataDir = join(suite.chroma.dir, "live");
    const app = suite.start({ dataDir, chromaUrl: url, embeddings: "hash" });
    const texts = ["My cat is called Miso.", "I live in Lisbon.", "I drink green tea.", "I play the cello."];
    const ids: string[] = [];
    for (const text of texts) ids.push((await app.call<AddResult>("add", text, alice)).results[0]!.id);

    // Half-way through the copy (one batch of two copied, the second being embedded), the
    // application updates every memory, deletes two and adds one.
    let added = "";
    const target = new SlowTarget(async () => {
      for (const [i, id] of ids.entries()) await app.call("update", id, `${texts[i]} (updated)`, alice);
      await app.call("delete", ids[0], alice);
      await app.call("delete", ids[3], alice);
      added = (await app.call<AddResult>("add", "I moved to Porto.", alice)).results[0]!.id;
    }, 2);
    await reembed({ dataDir, chroma: { url }, embeddings: target, batchSize: 2 });
    await app.close();

    const after = new Memory({ dataDir, chroma: { url }, embeddings: new Target(), writes: "sync" });
    try {
      const all = await after.getAll({ ...alice, limit: 100 });
      const byId = new Map(all.map((record: MemoryRecord) => [record.id, record.content]));
      expect([...byId.keys()].sort()).toEqual([ids[1]!, ids[2]!, added].sort());
      expect(byId.get(ids[1]!)).toBe(`${texts[1]} (updated)`);
      expect(byId.get(ids[2]!)).toBe(`${texts[2]} (updated)`);
      expect(byId.get(added)).toBe("I moved to Porto.");
    } finally {
      await after.close();
    }
  });
});

describe("an application writing right after reembed moved its folder", () => {
  const suite = peerSuite();

  it("its next add, with no search before it, is refused rather than stored with the old model's vectors", async () => {
    const url = suite.chroma.server.url;
    const dataDir = join(suite.chroma.dir, "after");
    const app = suite.start({ dataDir, chromaUrl: url, embeddings: "hash" });
    await app.call("add", "My cat is called Miso.", alice);
    // Same vector size as the application's model: Chroma itself would not refuse its vectors.
    const same = new (class extends HashEmbeddings {
      readonly modelId = "hash-other@64";
    })(64);
    await reembed({ dataDir, chroma: { url }, embeddings: same });
    const refused = await app.call("add", "I live in Lisbon.", alice).then(
      () => undefined,
      (error: unknown) => error as { code?: string },
    );
    await app.close();
    expect(refused?.code).toBe("EMBEDDINGS_MISMATCH");
  });
});
