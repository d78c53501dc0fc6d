import { describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { LocalEmbeddings } from "../embeddings/local.js";
import { peerSuite } from "../tests/peers.js";
import { Memory } from "./memory.js";

// A warm search checks its in-process index against the user's revision in the shared state, not
// in Chroma (memory/gated_store.ts, "Revisions in the shared state"). Another process on the same
// data folder (and its embedded Chroma server) writes (synchronously: each write is in the store when it returns);
// the search in this process, whose index of the user is warm, must never return a record that
// process deleted, changed or erased. The local model, a real Chroma server, real SQLite state.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const ALICE = { userId: "alice" };
const BOB = { userId: "bob" };

describe("a warm index follows another process's writes through the state's revision", () => {
  const suite = peerSuite();

  it("deletes, updates, erases and writes after an erase in another process are seen by the next search here", async () => {
    const dataDir = join(suite.chroma.dir, "revisions");
    // The folder's own server (started by the writer, reused here): recall's revisions are the
    // state's (`recallIndex.revisions: "auto"`).
    const writer = suite.start({ dataDir, writes: "sync", embeddings: "local" });
    await writer.call("getAll", ALICE);
    const useLite = new LocalEmbeddings();
    const memory = new Memory({ dataDir, writes: "sync", embeddings: useLite });
    try {
      type Added = { results: Array<{ id: string }> };
      const bike = (await writer.call<Added>("add", "Alice rides a red bike to work every morning.", ALICE)).results[0]!.id;
      const city = (await writer.call<Added>("add", "Alice lives in Paris near the river.", ALICE)).results[0]!.id;
      await writer.call("add", "Alice's favourite food is ramen with an egg.", ALICE);
      await writer.call("add", "Bob keeps bees in his garden.", BOB);

      // Warm: this process builds its index of alice (and of bob) now.
      expect((await memory.search("How does Alice get to work?", { ...ALICE, limit: 5 }))[0]?.id).toBe(bike);
      expect((await memory.search("bees", { ...BOB, limit: 5 })).map((hit) => hit.content)).toEqual(["Bob keeps bees in his garden."]);
      // A search with no write between keeps the index (it is not rebuilt): still the same answers.
      expect((await memory.search("How does Alice get to work?", { ...ALICE, limit: 5 }))[0]?.id).toBe(bike);

      await writer.call("delete", bike, ALICE);
      const afterDelete = await memory.search("How does Alice get to work on her bike?", { ...ALICE, limit: 5 });
      expect(afterDelete.map((hit) => hit.id)).not.toContain(bike);
      expect(afterDelete).toHaveLength(2);

      // Each version, the moment the other process's update returned: never an older one.
      for (const place of ["Rome", "Lisbon", "Oslo", "Vienna"]) {
        await writer.call("update", city, `Alice lives in ${place} near the river.`, ALICE);
        const hits = await memory.search("Where does Alice live?", { ...ALICE, limit: 5 });
        expect(hits.filter((hit) => hit.id === city).map((hit) => hit.content)).toEqual([`Alice lives in ${place} near the river.`]);
      }

      await writer.call("deleteAll", ALICE);
      expect(await memory.search("Where does Alice live?", { ...ALICE, limit: 5 })).toEqual([]);
      // Bob's index was not touched by alice's writes, and bob's answers are unchanged.
      expect((await memory.search("bees", { ...BOB, limit: 5 })).map((hit) => hit.content)).toEqual(["Bob keeps bees in his garden."]);

      // Written again after the erase: the new record only.
      const again = (await writer.call<Added>("add", "Alice moved to Madrid last spring.", ALICE)).results[0]!.id;
      const hits = await memory.search("Where does Alice live?", { ...ALICE, limit: 5 });
      expect(hits.map((hit) => hit.id)).toEqual([again]);

      // And this process's own writes keep its index current, with the other process's between them.
      const own = (await memory.add("Alice has a sister called Marta.", ALICE)).results[0]!.id;
      await writer.call("delete", again, ALICE);
      const mixed = await memory.search("Who is in Alice's family, and where does she live?", { ...ALICE, limit: 5 });
      expect(mixed.map((hit) => hit.id)).toEqual([own]);
      expect(writer.pid).not.toBe(process.pid);
    } finally {
      await memory.close();
      await useLite.close();
    }
  });

  it("a process that reads the store's revisions still advances the state's: a reader of the state's sees its writes", async () => {
    const dataDir = join(suite.chroma.dir, "mixed");
    const reader = suite.start({ dataDir, writes: "sync", embeddings: "local" });
    await reader.call("getAll", ALICE);
    const useLite = new LocalEmbeddings();
    const memory = new Memory({ dataDir, writes: "sync", embeddings: useLite, recallIndex: { revisions: "store" } });
    try {
      type Hit = { id: string; content: string };
      const tea = (await memory.add("Alice drinks green tea every morning.", ALICE)).results[0]!.id;
      await memory.add("Alice's dog is called Pixel.", ALICE);
      expect((await reader.call<Hit[]>("search", "What does Alice drink?", { ...ALICE, limit: 5 }))[0]?.id).toBe(tea);
      await memory.update(tea, "Alice drinks black coffee every morning.", ALICE);
      const hits = await reader.call<Hit[]>("search", "What does Alice drink?", { ...ALICE, limit: 5 });
      expect(hits.filter((hit) => hit.id === tea).map((hit) => hit.content)).toEqual(["Alice drinks black coffee every morning."]);
      await memory.delete(tea, ALICE);
      expect((await reader.call<Hit[]>("search", "What does Alice drink?", { ...ALICE, limit: 5 })).map((hit) => hit.id)).not.toContain(tea);
    } finally {
      await memory.close();
      await useLite.close();
    }
  });
});
