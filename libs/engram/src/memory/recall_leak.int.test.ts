import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { isEngramError } from "../core/errors.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { Memory } from "./memory.js";

/** The recall index's kept users, read through the Memory's parts (the count is what a long-running server pays). */
async function keptUsers(memory: Memory): Promise<number> {
  const inner = memory as unknown as { lifecycle: { setup(): Promise<{ recall: unknown }> } };
  const { recall } = await inner.lifecycle.setup();
  return (recall as { users: Map<string, unknown> }).users.size;
}

/**
 * A server (an agent backend, LangGraph Platform) runs for weeks and meets many users once each.
 * Recall kept every searched user's index until the kept records passed `maxRecords`, and an
 * index costs about 1.6 KB even empty: users with no or few memories never reach that bound, so
 * 100,000 users seen once kept 100,000 indexes (some 160 MB) for ever. `maxUsers` bounds them.
 */
describe("recall keeps a bounded number of users' indexes", () => {
  let chroma: TestChroma;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => chroma.stop());

  it("many users searched once each: at most maxUsers indexes stay, and an evicted user is rebuilt", async () => {
    const memory = new Memory({
      dataDir: join(await tempDir(), "d"),
      chroma: { url: chroma.server.url },
      embeddings: new StaticEmbeddings(),
      recallIndex: { maxUsers: 10 },
    });
    try {
      // A few users with one memory, many with none (a first visit: recall runs before anything is stored).
      for (let i = 0; i < 6; i += 1) await memory.add(`My favourite city is Lisbon number ${i}.`, { userId: `writer-${i}` });
      for (let i = 0; i < 6; i += 1) expect((await memory.search("favourite city", { userId: `writer-${i}` }))[0]?.content).toBe(`My favourite city is Lisbon number ${i}.`);
      for (let i = 0; i < 40; i += 1) expect(await memory.search("anything about me?", { userId: `visitor-${i}` })).toEqual([]);
      expect(await keptUsers(memory)).toBeLessThanOrEqual(10);
      // The first users' indexes left; their next search reads the store again and finds the same.
      expect((await memory.search("favourite city", { userId: "writer-0" }))[0]?.content).toBe("My favourite city is Lisbon number 0.");
      expect(await keptUsers(memory)).toBeLessThanOrEqual(10);
    } finally {
      await memory.close();
    }
  });

  it("refuses sizes that are not positive integers when the Memory is made", async () => {
    const dataDir = join(await tempDir(), "bad");
    for (const recallIndex of [{ maxUsers: 0 }, { maxUsers: 1.5 }, { maxRecords: -1 }, { exactSearchLimit: Number.NaN }, { maxUsers: "10" as unknown as number }]) {
      let error: unknown;
      try {
        new Memory({ dataDir, embeddings: new StaticEmbeddings(), recallIndex });
      } catch (thrown) {
        error = thrown;
      }
      expect(isEngramError(error, "INVALID_OPTIONS")).toBe(true);
    }
  });
});
