import { describe, expect, it, jest } from "@jest/globals";
import { ChromaClient } from "chromadb";
import { join } from "node:path";
import type { MemoryRecord } from "../core/types.js";
import { LocalEmbeddings } from "../embeddings/local.js";
import { ChromaStore } from "../store/chroma_store.js";
import type { EpisodicStore } from "../store/types.js";
import { testMemories } from "../tests/memories.js";
import { peerSuite } from "../tests/peers.js";
import { Memory } from "./memory.js";

// `getAll` and `get` (and `add`'s replay check) answer from recall's in-process index when a
// revision read says it is current, so a warm turn reads its procedures with no store round trip
// (memory/recall.ts `list`, `find`). What must hold: the answer is exactly what the store would
// give (same records, same form, same order), and a write of another instance or process is
// never missed (no deleted record returned, no old content after an update). A real Chroma server,
// the local model, real SQLite state; the other process is a real child process.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const ALICE = { userId: "alice" };
const PROCEDURES = { ...ALICE, kind: "procedure" as const };

/** The store's list and get calls, counted. */
interface Counted {
  store: EpisodicStore;
  reads: () => number;
}

describe("warm reads from recall's index, in one process", () => {
  const memories = testMemories();

  /** A Chroma store with the suite's server and `prefix`, its reads of records counted. */
  const counted = (prefix: string): Counted => {
    const server = memories.chroma.server;
    const inner = new ChromaStore({ client: async () => new ChromaClient({ host: server.host, port: server.port }), prefix });
    let reads = 0;
    const store = Object.assign(Object.create(inner) as EpisodicStore, {
      list: (...args: Parameters<EpisodicStore["list"]>) => ((reads += 1), inner.list(...args)),
      get: (...args: Parameters<EpisodicStore["get"]>) => ((reads += 1), inner.get(...args)),
      revision: (userId: string) => inner.revision(userId),
    });
    return { store, reads: () => reads };
  };

  /** Two instances on one data folder and one store (a custom store: revisions read from the state, as said). */
  const pair = (name: string, writes: "sync" | "background") => {
    const open = (of: Counted) =>
      memories.track(
        new Memory({ embeddings: memories.embeddings, store: of.store, prefix: name, dataDir: join(memories.chroma.dir, name), writes, recallIndex: { revisions: "state" } }),
      );
    const a = counted(name);
    const b = counted(name);
    return { a: open(a), aReads: a.reads, b: open(b), bReads: b.reads };
  };

  it.each(["sync", "background"] as const)("getAll and get of a warm user read no store and give what the store gives (writes: %s)", async (writes) => {
    const { a, aReads, b } = pair(`same-${writes}`, writes);
    await a.add("When the user asks for code, answer in TypeScript", { ...ALICE, kind: "procedure", importance: 0.7, metadata: { topic: "code", weight: 2.5, pinned: true } });
    await a.add("Keep answers under ten lines", { ...ALICE, agentId: "coder", kind: "procedure", source: { threadId: "t0", messageIds: [] } });
    await a.add("Answer in French on Sundays", { ...ALICE, kind: "procedure", expiresAt: Date.now() + 3_600_000 });
    await a.add(
      [
        { role: "user", content: "I moved to Lisbon last spring, near the river.", id: "m1" },
        { role: "assistant", content: "Lisbon is lovely in spring.", id: "m2" },
      ],
      { ...ALICE, threadId: "t1" },
    );
    await a.flush();
    // Warm: a search builds the index of alice in `a`; `b` never searches, so it reads the store.
    expect((await a.search("Where does the user live?", ALICE)).length).toBeGreaterThan(0);
    const before = aReads();
    const warm = { procedures: await a.getAll(PROCEDURES), all: await a.getAll(ALICE), agent: await a.getAll({ ...ALICE, agentId: "coder" }) };
    const lisbon = warm.all.find((record) => record.content.startsWith("I moved"))!;
    const one = await a.get(lisbon.id, ALICE);
    expect(aReads()).toBe(before);
    expect(warm.procedures.map((record) => record.content).sort()).toEqual([
      "Answer in French on Sundays",
      "Keep answers under ten lines",
      "When the user asks for code, answer in TypeScript",
    ]);
    expect(warm.all).toHaveLength(5);
    expect(warm.procedures).toEqual(await b.getAll(PROCEDURES));
    expect(warm.all).toEqual(await b.getAll(ALICE));
    expect(warm.agent).toEqual(await b.getAll({ ...ALICE, agentId: "coder" }));
    expect(one).toEqual(await b.get(lisbon.id, ALICE));
    expect(one?.source).toEqual({ threadId: "t1", messageIds: ["m1"] });

    // A caller changing what it got changes nothing kept.
    warm.procedures[0]!.metadata.topic = "changed";
    warm.procedures[0]!.scope.userId = "mallory";
    expect(await a.getAll(PROCEDURES)).toEqual(await b.getAll(PROCEDURES));

    // `add` of a record the history calls live (a replay) asks the index, not the store, whether
    // it is still stored: nothing is written, nothing read.
    const replay = await a.add("Keep answers under ten lines", { ...ALICE, agentId: "coder", kind: "procedure", source: { threadId: "t0", messageIds: [] } });
    expect(replay.results[0]!.createdAt).toBe(warm.agent[0]!.createdAt);
    expect(aReads()).toBe(before);
  });

  it("another instance's deletes, updates, adds and erase are seen by the next getAll and get of a warm user", async () => {
    const { a, aReads, b } = pair("other", "sync");
    const code = (await a.add("When the user asks for code, answer in TypeScript", { ...ALICE, kind: "procedure" })).results[0]!.id;
    const short = (await a.add("Keep answers under ten lines", { ...ALICE, kind: "procedure" })).results[0]!.id;
    await a.search("answers", ALICE);
    expect(await a.getAll(PROCEDURES)).toHaveLength(2);
    const contents = async () => (await a.getAll(PROCEDURES)).map((record) => record.content).sort();

    await b.delete(code, ALICE);
    expect(await contents()).toEqual(["Keep answers under ten lines"]);
    expect(await a.get(code, ALICE)).toBeNull();

    for (const limit of ["five", "three", "two"]) {
      await b.update(short, `Keep answers under ${limit} lines`, ALICE);
      expect(await contents()).toEqual([`Keep answers under ${limit} lines`]);
      expect((await a.get(short, ALICE))?.content).toBe(`Keep answers under ${limit} lines`);
    }

    await b.add("Use metric units", { ...ALICE, kind: "procedure" });
    expect(await contents()).toEqual(["Keep answers under two lines", "Use metric units"]);

    // Warm again (the search rebuilt the index): this instance's own writes keep it current, and
    // the reads after them touch no store.
    await a.search("units", ALICE);
    const own = (await a.add("Never use emoji", { ...ALICE, kind: "procedure" })).results[0]!.id;
    await a.delete(short, ALICE); // (delete itself reads the record from the store)
    const reads = aReads();
    expect(await contents()).toEqual(["Never use emoji", "Use metric units"]);
    expect((await a.get(own, ALICE))?.content).toBe("Never use emoji");
    expect(aReads()).toBe(reads);

    await b.deleteAll(ALICE);
    expect(await a.getAll(PROCEDURES)).toEqual([]);
    expect(await a.get(own, ALICE)).toBeNull();
    // Added again after the erase: stored again, seen by both.
    expect((await a.add("Never use emoji", { ...ALICE, kind: "procedure" })).results[0]!.id).toBe(own);
    expect((await b.get(own, ALICE))?.content).toBe("Never use emoji");
    expect(await a.getAll(PROCEDURES)).toEqual(await b.getAll(PROCEDURES));
  });
});

describe("warm reads from recall's index follow another process's writes", () => {
  const suite = peerSuite();

  it("a warm getAll and get here never miss a delete, update or erase made by another process", async () => {
    const dataDir = join(suite.chroma.dir, "warm-reads");
    // The folder's own server (started by the writer, reused here): revisions read from the state.
    const writer = suite.start({ dataDir, writes: "sync", embeddings: "local" });
    await writer.call("getAll", ALICE);
    const useLite = new LocalEmbeddings();
    const memory = new Memory({ dataDir, writes: "sync", embeddings: useLite });
    try {
      type Added = { results: Array<{ id: string }> };
      const add = async (text: string) => (await writer.call<Added>("add", text, PROCEDURES)).results[0]!.id;
      const code = await add("When the user asks for code, answer in TypeScript");
      const short = await add("Keep answers under ten lines");
      await writer.call("add", "Alice keeps bees on the roof.", ALICE);
      await memory.search("bees", ALICE); // warm
      const same = async () => expect(await memory.getAll(PROCEDURES)).toEqual(await writer.call<MemoryRecord[]>("getAll", PROCEDURES));
      await same();

      await writer.call("delete", code, ALICE);
      await same();
      expect(await memory.get(code, ALICE)).toBeNull();
      for (const limit of ["five", "three"]) {
        await writer.call("update", short, `Keep answers under ${limit} lines`, ALICE);
        await same();
        expect((await memory.get(short, ALICE))?.content).toBe(`Keep answers under ${limit} lines`);
      }
      await memory.search("bees", ALICE); // warm again
      await add("Use metric units");
      await same();
      await writer.call("deleteAll", ALICE);
      expect(await memory.getAll(PROCEDURES)).toEqual([]);
      expect(await memory.get(short, ALICE)).toBeNull();
      expect(writer.pid).not.toBe(process.pid);
    } finally {
      await memory.close();
      await useLite.close();
    }
  });
});
