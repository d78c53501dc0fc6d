import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { HumanMessage, AIMessage } from "@langchain/core/messages";
import { isEngramError, type EngramErrorCode } from "../core/errors.js";
import { startChromaServer, freePort } from "../store/chroma_server.js";
import { killChroma, tempDir } from "../tests/chroma.js";
import { testMemories } from "../tests/memories.js";
import { processGone, waitFor } from "../tests/wait.js";
import { Memory } from "./memory.js";

const memories = testMemories();
const { embeddings } = memories;

function memory(name = "data"): Memory {
  return memories.open(name);
}

async function expectCode(promise: Promise<unknown>, code: EngramErrorCode): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(isEngramError(error, code) ? error.code : error).toBe(code);
}

describe("Memory against a real Chroma server", () => {
  it("adds, searches by meaning, gets, lists, updates, deletes, with every version in history", async () => {
    const m = memory();
    const added = await m.add("User prefers Python for data science", { userId: "alice", metadata: { topic: "work" } });
    // Background writes by default: durable in the outbox when add returns, in the store right after,
    // and every read below sees it.
    expect(added.pending).toBe(true);
    await m.add("Alice's cat is called Miso and likes tuna", { userId: "alice" });
    await m.add("Alice is training for the Berlin marathon in September", { userId: "alice" });

    const hits = await m.search("What programming language?", { userId: "alice" });
    expect(hits[0]?.content).toBe("User prefers Python for data science");
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
    expect(hits[0]!.score).toBeGreaterThan(hits[2]!.score);

    const id = added.results[0]!.id;
    const got = await m.get(id, { userId: "alice" });
    expect(got?.metadata).toEqual({ topic: "work" });
    expect((await m.getAll({ userId: "alice" })).length).toBe(3);
    expect((await m.getAll({ userId: "alice", limit: 2, offset: 2 })).length).toBe(1);

    const updated = await m.update(id, "User prefers Rust for systems work", { userId: "alice" });
    expect(updated.content).toBe("User prefers Rust for systems work");
    // Re-embedded: the new content is now what a Rust question finds.
    const rust = await m.search("Which language for low-level systems programming?", { userId: "alice", limit: 1 });
    expect(rust[0]?.id).toBe(id);
    await m.delete(id, { userId: "alice" });
    expect(await m.get(id, { userId: "alice" })).toBeNull();

    const versions = await m.history(id, { userId: "alice" });
    expect(versions.map((v) => v.event)).toEqual(["ADD", "UPDATE", "DELETE"]);
    expect(versions[1]).toMatchObject({ oldContent: "User prefers Python for data science", newContent: "User prefers Rust for systems work" });
    expect(versions[2]).toMatchObject({ oldContent: "User prefers Rust for systems work", newContent: null });
    // History is per user: the same id asked by another user shows nothing.
    expect(await m.history(id, { userId: "bob" })).toEqual([]);
  });

  it("stores chat messages one record per message, keeps text parts of multimodal content and says so", async () => {
    const m = memory();
    const result = await m.add(
      [
        new HumanMessage({ id: "m1", content: "I just adopted a beagle named Pixel" }),
        new AIMessage({ id: "m2", content: [{ type: "text", text: "Congratulations on Pixel!" }, { type: "image_url", image_url: { url: "data:," } }] }),
      ],
      { userId: "carol", threadId: "t1" },
    );
    expect(result.results.map((r) => [r.role, r.content])).toEqual([
      ["user", "I just adopted a beagle named Pixel"],
      ["assistant", "Congratulations on Pixel!"],
    ]);
    expect(result.results[0]!.source).toEqual({ threadId: "t1", messageIds: ["m1"] });
    expect(result.warnings.join(" ")).toContain("image_url");
    // Replaying the same messages (same user, thread and message ids) stores nothing new.
    const again = await m.add([new HumanMessage({ id: "m1", content: "I just adopted a beagle named Pixel" })], { userId: "carol", threadId: "t1" });
    expect(again.results[0]!.id).toBe(result.results[0]!.id);
    expect(again.results[0]!.createdAt).toBe(result.results[0]!.createdAt);
    expect((await m.getAll({ userId: "carol" })).length).toBe(2);
    expect((await m.history(result.results[0]!.id, { userId: "carol" })).length).toBe(1);
    // Thread scope narrows a search.
    await m.add("Carol's favourite colour is green", { userId: "carol", threadId: "t2" });
    const inT1 = await m.search("favourite colour", { userId: "carol", threadId: "t1" });
    expect(inT1.every((r) => r.scope.threadId === "t1")).toBe(true);
  });

  it("filters by kind, time and metadata, honours the threshold, and hides expired memories", async () => {
    let now = 1_000_000;
    const m = memories.open("data-filters", { clock: () => now });
    await m.add("Dan likes green tea in the morning", { userId: "dan", kind: "fact", metadata: { source: "chat" } });
    now = 2_000_000;
    await m.add("Dan drank green tea at the office today", { userId: "dan", metadata: { source: "log" } });
    await m.add("Dan's green tea voucher", { userId: "dan", expiresAt: 2_500_000 });
    const facts = await m.search("green tea", { userId: "dan", filters: { kind: "fact" } });
    expect(facts.map((r) => r.kind)).toEqual(["fact"]);
    const recent = await m.search("green tea", { userId: "dan", filters: { createdAfter: 1_500_000 } });
    expect(recent.every((r) => r.createdAt >= 1_500_000)).toBe(true);
    expect(recent.length).toBe(2);
    const logs = await m.search("green tea", { userId: "dan", filters: { metadata: { source: "log" } } });
    expect(logs.map((r) => r.metadata.source)).toEqual(["log"]);
    expect(await m.search("green tea", { userId: "dan", threshold: 0.99 })).toEqual([]);
    now = 3_000_000;
    expect((await m.getAll({ userId: "dan" })).map((r) => r.content)).not.toContain("Dan's green tea voucher");
    expect((await m.search("voucher", { userId: "dan" })).map((r) => r.content)).not.toContain("Dan's green tea voucher");
  });

  it("deleteAll removes that user only, from the store and the history", async () => {
    const m = memory();
    for (const fact of ["Erin plays the cello", "Erin lives in Oslo", "Erin's son is called Jon"]) {
      await m.add(fact, { userId: "erin" });
    }
    await m.add("Frank plays the cello too", { userId: "frank" });
    await m.add("Frank lives in Oslo as well", { userId: "frank" });
    // The adds drain in the background: stored first, so that the counts below are the store's and
    // the history's (a drain still queued when deleteAll runs counts its writes as `pending` instead;
    // background.int.test.ts covers that case).
    await m.flush();
    const erinBefore = (await m.getAll({ userId: "erin" })).length;
    const frankBefore = (await m.getAll({ userId: "frank" })).length;
    expect([erinBefore, frankBefore]).toEqual([3, 2]);

    const removed = await m.deleteAll({ userId: "erin" });
    expect(removed).toEqual({ deleted: 3, history: 3, pending: 0 });
    expect(await m.getAll({ userId: "erin" })).toEqual([]);
    expect(await m.search("cello", { userId: "erin" })).toEqual([]);
    expect((await m.getAll({ userId: "frank" })).length).toBe(frankBefore);
    expect((await m.search("Who plays the cello?", { userId: "frank" }))[0]?.content).toBe("Frank plays the cello too");
  });

  it("a second Memory on the same data folder sees the first one's records", async () => {
    const dir = await tempDir();
    const first = memories.track(new Memory({ dataDir: dir, embeddings }));
    const second = memories.track(new Memory({ dataDir: dir, embeddings }));
    const added = await first.add("Gina is allergic to peanuts", { userId: "gina" });
    const seen = await second.search("food allergies", { userId: "gina" });
    expect(seen.map((r) => r.id)).toEqual([added.results[0]!.id]);
    expect(await second.history(added.results[0]!.id, { userId: "gina" })).toHaveLength(1);
    await first.close();
    // The server the first one started is shared: the second keeps working after the first closes.
    expect((await second.getAll({ userId: "gina" })).length).toBe(1);
  });

  it("refuses bad input with a typed error and writes nothing", async () => {
    const m = memory("data-bad");
    await m.add("Hana keeps bees", { userId: "hana" });
    const other = await m.add("Ivan keeps goats", { userId: "ivan" });
    const cases: Array<[Promise<unknown>, EngramErrorCode]> = [
      [m.add("", { userId: "hana" }), "INVALID_CONTENT"],
      [m.add("   \n ", { userId: "hana" }), "INVALID_CONTENT"],
      [m.add("x".repeat(8_001), { userId: "hana" }), "CONTENT_TOO_LARGE"],
      [m.add("ok", {} as never), "INVALID_USER_ID"],
      [m.add("ok", { userId: "" }), "INVALID_USER_ID"],
      [m.add("ok", { userId: 42 } as never), "INVALID_USER_ID"],
      [m.add("ok", { userId: { $ne: "x" } } as never), "INVALID_USER_ID"],
      [m.search("bees", { userId: { $ne: "hana" } } as never), "INVALID_USER_ID"],
      [m.add("ok", { userId: "hana", metadata: { nested: { a: 1 } } } as never), "INVALID_METADATA"],
      [m.add("ok", { userId: "hana", metadata: { userId: "ivan" } }), "INVALID_METADATA"],
      [m.add("ok", { userId: "hana", metadata: { $or: "x" } }), "INVALID_METADATA"],
      [m.add("ok", { userId: "hana", importance: 3 }), "INVALID_OPTIONS"],
      [m.add([{ role: "user", content: [{ type: "image_url", image_url: "x" }] }], { userId: "hana" }), "INVALID_CONTENT"],
      [m.search("bees", { userId: "hana", filters: { metadata: { kind: { $ne: 1 } } } } as never), "INVALID_METADATA"],
      // An option name it does not know (a retriever's `k`, a plural) is refused, not ignored.
      [m.search("bees", { userId: "hana", k: 1 } as never), "INVALID_OPTIONS"],
      [m.getAll({ userId: "hana", kinds: "fact" } as never), "INVALID_OPTIONS"],
      [m.update(other.results[0]!.id, "Hana owns the goats now", { userId: "hana" }), "NOT_FOUND"],
      [m.delete(other.results[0]!.id, { userId: "hana" }), "NOT_FOUND"],
    ];
    for (const [promise, code] of cases) await expectCode(promise, code);
    // Options are checked in the constructor: nothing is opened or written for a bad one.
    expect(() => new Memory({ writes: "async" as never })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    expect(await m.get(other.results[0]!.id, { userId: "hana" })).toBeNull();
    expect((await m.getAll({ userId: "hana" })).map((r) => r.content)).toEqual(["Hana keeps bees"]);
    expect((await m.getAll({ userId: "ivan" })).map((r) => r.content)).toEqual(["Ivan keeps goats"]);
    expect(await m.history(other.results[0]!.id, { userId: "ivan" })).toHaveLength(1);
  });
});

describe("Memory when the store goes down", () => {
  it("keeps writes in the outbox while the server is dead and replays them once, without duplicates", async () => {
    const dir = await tempDir();
    const path = join(dir, "chroma");
    const port = await freePort();
    let server = await startChromaServer({ path, port, maxRestarts: 0 });
    // writes: "sync", so each add says whether it reached the store (background writes always wait in the outbox first).
    const m = memories.track(new Memory({ dataDir: join(dir, "data"), embeddings, chroma: { url: server.url }, writes: "sync" }));
    const facts = Array.from({ length: 12 }, (_, i) => `Fact number ${i} about Jun's garden: plant ${i} is a tomato variety`);
    const results: boolean[] = [];
    for (const [i, fact] of facts.entries()) {
      if (i === 5) killChroma(path); // the server dies mid-stream
      results.push((await m.add(fact, { userId: "jun" })).pending);
    }
    expect(results.slice(0, 5)).toEqual([false, false, false, false, false]);
    expect(results.slice(5).every(Boolean)).toBe(true);
    await expectCode(m.flush(), "STORE_UNAVAILABLE");
    // Adding the same text again while down keeps one pending write for it, not two.
    expect((await m.add(facts[7]!, { userId: "jun" })).pending).toBe(true);

    // Until the dead server's supervisor has exited, startChromaServer would hand back its handle
    // (a loaded machine can be slow to see the exit; the adds above are no sure wait).
    const dead = server.pid;
    expect(await waitFor(() => processGone(dead))).toBe(true);
    await new Promise((done) => setImmediate(done));
    server = await startChromaServer({ path, port, maxRestarts: 0 });
    const flushed = await m.flush();
    expect(flushed).toEqual({ applied: 7, pending: 0 });
    expect((await m.flush()).applied).toBe(0);
    const all = await m.getAll({ userId: "jun" });
    expect(all.map((r) => r.content).sort()).toEqual([...facts].sort());
    expect(new Set(all.map((r) => r.id)).size).toBe(12);
    // Every record has exactly one ADD in its history.
    for (const record of all) expect((await m.history(record.id, { userId: "jun" })).length).toBe(1);
    await server.stop();
  });
});
