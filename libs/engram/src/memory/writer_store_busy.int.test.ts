import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { codeOf } from "../tests/runs.js";
import { startStatusProxy, type StatusProxy } from "../tests/status_proxy.js";
import { warningsWithCode } from "../tests/warnings.js";
import { Memory } from "./memory.js";

/**
 * A Chroma server behind a load balancer (or Chroma Cloud) answers 502/503/504 while it restarts,
 * and 429 when it sheds load. The drain took such an answer to an upsert for the store refusing
 * the record: tried again once, then dropped for good (ENGRAM_WRITE_REFUSED) as soon as a read
 * answered, so an acknowledged background write was lost in a passing outage. It is an outage:
 * the write stays queued and is stored by the next drain.
 */

describe("a store that answers an upsert with a passing error status", () => {
  let chroma: TestChroma;
  let proxy: StatusProxy;
  beforeAll(async () => {
    chroma = await startTestChroma();
    proxy = await startStatusProxy(chroma.server.url);
  });
  afterAll(async () => {
    await proxy.close();
    await chroma.stop();
  });

  it.each([
    [503, "Service Unavailable"],
    [502, "Bad Gateway"],
    [504, "Gateway Timeout"],
    [429, "Too Many Requests"],
  ])("%i: a background write stays queued (STORE_UNAVAILABLE), nothing dropped, and is stored once the store takes it", async (status, text) => {
    const memory = new Memory({ dataDir: join(chroma.dir, `busy-${status}`), chroma: { url: proxy.url }, embeddings: new HashEmbeddings(), prefix: `busy${status}` });
    const refused = warningsWithCode("ENGRAM_WRITE_REFUSED");
    try {
      await memory.add("the collection exists", { userId: "una" });
      await memory.flush();
      // Every upsert of records answered with the status (the revision log's too), reads pass.
      proxy.answer((path) => path.endsWith("/upsert"), status, text, 1_000);
      await memory.add("Una keeps bees in Lyon", { userId: "una" });
      expect(await codeOf(memory.flush())).toBe("STORE_UNAVAILABLE");
      expect(proxy.answered).toBeGreaterThan(0);
      proxy.answer(() => false, 200, "", 0);
      // Stored by this flush or by a background drain it met.
      expect((await memory.flush()).pending).toBe(0);
      expect(refused.seen).toEqual([]);
      const reader = new Memory({ dataDir: join(chroma.dir, `busy-${status}-reader`), chroma: { url: chroma.server.url }, embeddings: new HashEmbeddings(), prefix: `busy${status}` });
      try {
        expect((await reader.getAll({ userId: "una" })).map((record) => record.content).sort()).toEqual(["Una keeps bees in Lyon", "the collection exists"]);
      } finally {
        await reader.close();
      }
    } finally {
      refused.stop();
      await memory.close();
    }
  });
});
