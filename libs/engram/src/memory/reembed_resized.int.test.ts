import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { codeOf } from "../tests/runs.js";
import { Memory } from "./memory.js";
import { reembed } from "./reembed.js";

/**
 * `reembed` towards a model with the folder's model id and another vector size (a custom class
 * without `modelId`, OpenAI's `dimensions` changed) moved nothing, silently, and recorded nothing:
 * the folder then refused the new model on every call. It is refused before anything is written,
 * asking for a new model id.
 */

/** The test hash embedding at `size` dimensions under `modelId`. */
class Named extends HashEmbeddings {
  constructor(
    size: number,
    readonly modelId: string,
  ) {
    super(size);
  }
}

describe("reembed to a model of the same id and another vector size", () => {
  let chroma: TestChroma;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => chroma.stop());

  it("is refused with EMBEDDINGS_MISMATCH asking for a new modelId, nothing changed; the same model again is a no-op; a new id moves the folder", async () => {
    const url = chroma.server.url;
    const dataDir = join(chroma.dir, "resized");
    const seed = new Memory({ dataDir, chroma: { url }, embeddings: new Named(16, "users-model"), writes: "sync" });
    const texts = ["Ines keeps a sailing boat in Lagos", "Ines learns the cello on Sundays"];
    for (const text of texts) await seed.add(text, { userId: "ines" });
    await seed.close();

    const refused = reembed({ dataDir, chroma: { url }, embeddings: new Named(24, "users-model") });
    expect(await codeOf(refused)).toBe("EMBEDDINGS_MISMATCH");
    const message = await refused.then(
      () => "",
      (caught: unknown) => (caught as Error).message,
    );
    expect(message).toContain("modelId");
    expect(message).toContain("16");
    expect(message).toContain("24");

    // Nothing changed: the folder's own model opens it and finds its memories.
    const same = new Memory({ dataDir, chroma: { url }, embeddings: new Named(16, "users-model"), writes: "sync" });
    try {
      expect((await same.search("sailing boat", { userId: "ines" }))[0]?.content).toBe(texts[0]);
    } finally {
      await same.close();
    }
    // The folder's own model again: nothing to move, as before.
    expect(await reembed({ dataDir, chroma: { url }, embeddings: new Named(16, "users-model") })).toMatchObject({ to: "users-model", reembedded: 0 });

    // As the error says: the new model under its own id moves every memory.
    expect(await reembed({ dataDir, chroma: { url }, embeddings: new Named(24, "users-model@24") })).toMatchObject({ to: "users-model@24", reembedded: 2 });
    const moved = new Memory({ dataDir, chroma: { url }, embeddings: new Named(24, "users-model@24"), writes: "sync" });
    try {
      expect((await moved.search("cello on Sundays", { userId: "ines" }))[0]?.content).toBe(texts[1]);
    } finally {
      await moved.close();
    }
  });
});
