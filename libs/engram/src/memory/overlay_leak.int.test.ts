import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { StaticEmbeddings } from "../embeddings/static.js";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { holdLocks } from "../tests/pending_scenario.js";
import { Memory } from "./memory.js";

/** The vectors the Memory's pending overlay keeps, read through its parts (what a long-running server pays). */
async function keptVectors(memory: Memory): Promise<number> {
  const inner = memory as unknown as { lifecycle: { setup(): Promise<{ overlay?: { keptVectors: number } }> } };
  const { overlay } = await inner.lifecycle.setup();
  return overlay!.keptVectors;
}

/**
 * A search reads the user's queued writes and embeds them (memory/pending_overlay.ts), keeping each
 * row's vector until the row leaves the outbox. The kept vectors of drained rows left only at the
 * user's next read: a server whose users search once after writing kept them for ever (up to
 * 4,096 vectors). They now leave when this process writes the records to the store.
 */
describe("the pending overlay keeps no vector of a drained write", () => {
  let chroma: TestChroma;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => chroma.stop());

  it("users who search while their writes are queued, then never again: nothing kept once drained, reads unchanged", async () => {
    const memory = new Memory({ dataDir: join(await tempDir(), "d"), chroma: { url: chroma.server.url }, embeddings: new StaticEmbeddings(), writes: "background" });
    const users = ["u0", "u1", "u2", "u3", "u4"];
    try {
      // Every drain of the users waits for the test, so their searches read the queued writes.
      const release = await holdLocks((user, name, fn) => memory.state.leases.exclusive(user, name, fn), users);
      for (const userId of users) {
        for (const fact of ["I keep bees on the roof.", "My sister lives in Porto.", "I play the cello on Sundays."]) await memory.add(`${fact} (${userId})`, { userId });
        expect((await memory.search("where does my sister live?", { userId }))[0]?.content).toBe(`My sister lives in Porto. (${userId})`);
      }
      expect(await keptVectors(memory)).toBe(15);
      await release();
      await memory.flush();
      expect(await memory.state.outbox().size()).toBe(0);
      // Before: 15 (each user's three, until that user searched again).
      expect(await keptVectors(memory)).toBe(0);
      // The same answers from the store.
      expect((await memory.search("where does my sister live?", { userId: "u0" }))[0]?.content).toBe("My sister lives in Porto. (u0)");
      expect(await keptVectors(memory)).toBe(0);
    } finally {
      await memory.close();
    }
  });
});
