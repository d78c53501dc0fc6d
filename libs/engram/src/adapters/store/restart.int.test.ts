import { afterAll, describe, expect, it } from "@jest/globals";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { chromaPid, killChroma, tempDir } from "../../tests/chroma.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { EngramStore } from "./engram_store.js";

/*
 * The embedded Chroma server dies (kill -9) in the middle of a batch: after the batch's writes
 * under one first label landed and before those under the next. The store restarts the server
 * and runs the batch again; what it returns must still be what LangGraph promises for a batch:
 * every write applied once, and the reads answered from the store as it was before the batch's
 * writes (InMemoryStore's order), not from the half of the writes the first attempt had landed.
 * The kill is placed by the store's injected clock, which each label's write reads once just
 * before it upserts: no timing.
 */

const embeddings = new HashEmbeddings(64);
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A clock that kills the server at the `at`-th time StoreWriter.write reads it, once armed. */
function killingClock(path: string): { clock: () => number; arm: (at: number) => void; killed: () => boolean } {
  let armed = 0;
  let seen = 0;
  let killed = false;
  return {
    clock: () => {
      if (armed > 0 && !killed && /StoreWriter\.write\b/.test(new Error().stack ?? "")) {
        seen += 1;
        if (seen === armed) {
          killChroma(path);
          killed = true;
        }
      }
      return Date.now();
    },
    arm: (at) => {
      armed = at;
    },
    killed: () => killed,
  };
}

describe("EngramStore: the embedded server killed in the middle of a batch", () => {
  it("applies every write once and answers the batch's reads from before its writes", async () => {
    const dir = await tempDir("engram-store-restart-");
    dirs.push(dir);
    const path = join(dir, "chroma");
    const hook = killingClock(path);
    const store = new EngramStore({ dataDir: dir, index: { fields: ["text", "more"], embeddings }, clock: hook.clock });
    try {
      await store.put(["alice", "notes"], "k", { text: "alice first", more: "alice second text" });
      await store.put(["bob", "notes"], "k", { text: "bob first" });
      const pid = chromaPid(path);
      hook.arm(2); // the write under "bob", after the one under "alice" landed
      const results = await store.batch([
        { namespace: ["alice", "notes"], key: "k" },
        { namespace: ["alice", "notes"], key: "k", value: { text: "alice new" } },
        { namespacePrefix: ["alice"], limit: 10, offset: 0 },
        { namespace: ["bob", "notes"], key: "k", value: { text: "bob new", more: "bob more text" } },
        { namespace: ["bob", "notes"], key: "k" },
        { namespace: ["carol", "notes"], key: "k", value: { text: "carol new" } },
      ]);
      expect(hook.killed()).toBe(true);
      expect(chromaPid(path)).not.toBe(pid);
      const [aliceBefore, , aliceSearch, , bobBefore] = results as unknown as [
        { value: unknown } | null,
        null,
        Array<{ value: unknown }>,
        null,
        { value: unknown } | null,
      ];
      expect(aliceBefore?.value).toEqual({ text: "alice first", more: "alice second text" });
      expect(aliceSearch.map((item) => item.value)).toEqual([{ text: "alice first", more: "alice second text" }]);
      expect(bobBefore?.value).toEqual({ text: "bob first" });
      // Every write of the batch is there, once, with its own vectors only.
      expect((await store.get(["alice", "notes"], "k"))?.value).toEqual({ text: "alice new" });
      expect((await store.get(["bob", "notes"], "k"))?.value).toEqual({ text: "bob new", more: "bob more text" });
      expect((await store.get(["carol", "notes"], "k"))?.value).toEqual({ text: "carol new" });
      const [alice] = await store.search(["alice"], { query: "alice second text" });
      expect(alice?.score).toBeLessThan(0.99);
      const [bob] = await store.search(["bob"], { query: "bob more text" });
      expect(bob?.score).toBeGreaterThan(0.99);
    } finally {
      await store.close();
    }
  });
});
