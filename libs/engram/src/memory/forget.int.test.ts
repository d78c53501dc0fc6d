import { describe, expect, it } from "@jest/globals";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { isEngramError, type EngramErrorCode } from "../core/errors.js";
import type { MemoryRecord } from "../core/types.js";
import { ChromaStore } from "../store/chroma_store.js";
import { freePort, startChromaServer } from "../store/chroma_server.js";
import type { EpisodicStore, StoreFilter, StoreHit, StoredRecord } from "../store/types.js";
import { killChroma, tempDir } from "../tests/chroma.js";
import { testMemories } from "../tests/memories.js";
import { processGone, waitFor } from "../tests/wait.js";
import { Memory } from "./memory.js";

const DAY = 86_400_000;
const T0 = 20_000 * DAY;
const memories = testMemories();
const { embeddings } = memories;

/** A Memory on the shared test server whose clock the test moves. */
function memoryAt(name: string, clock: { now: number }): Memory {
  // writes: "sync": the reports below say whether the removals reached the store.
  return memories.open(name, { clock: () => clock.now, writes: "sync" });
}

async function expectCode(promise: Promise<unknown>, code: EngramErrorCode): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(isEngramError(error, code) ? error.code : error).toBe(code);
}

async function lastEvent(m: Memory, id: string, userId: string): Promise<[string, string | null]> {
  const entries = await m.history(id, { userId });
  const last = entries[entries.length - 1]!;
  return [last.event, last.reason];
}

describe("Memory.forget against a real Chroma server and the local embeddings", () => {
  it("merges near-identical records keeping their sources, expires, caps, and leaves other users alone", async () => {
    const clock = { now: T0 - 100 * DAY };
    const m = memoryAt("forget-main", clock);
    // Two low-value records from long ago: the cap's candidates.
    const [weather] = (await m.add("We chatted about the rainy weather on Tuesday", { userId: "alice", importance: 0.2 })).results;
    const [time] = (await m.add("The user asked what time it was", { userId: "alice", importance: 0.1 })).results;

    clock.now = T0;
    const [moved] = (
      await m.add([{ role: "user", id: "m1", content: "I moved to Oslo last spring." }], { userId: "alice", threadId: "t1", importance: 0.9 })
    ).results;
    // The same sentence without its full stop, told in another thread (cosine 0.977 with the local model).
    // (Not every such pair is this close: the local model weighs punctuation, see docs/forgetting.md.)
    const [movedAgain] = (
      await m.add([{ role: "user", id: "m9", content: "I moved to Oslo last spring" }], { userId: "alice", threadId: "t2" })
    ).results;
    // Same text as the first, but a fact: another kind is never merged into an episode.
    const [fact] = (await m.add("I moved to Oslo last spring.", { userId: "alice", kind: "fact" })).results;
    // Similar but different facts (cosine 0.875): both stay.
    const [peanuts] = (await m.add("I am allergic to peanuts", { userId: "alice", importance: 0.9 })).results;
    const [walnuts] = (await m.add("I am allergic to walnuts", { userId: "alice", importance: 0.9 })).results;
    const [promo] = (await m.add("Promo code SPRING24 is valid this week", { userId: "alice", expiresAt: T0 + DAY })).results;

    // Bob has duplicates and an expired record too; forgetting alice must not touch them.
    await m.add("I moved to Oslo last spring.", { userId: "bob" });
    await m.add("I moved to Oslo last spring", { userId: "bob" });
    const [coupon] = (await m.add("Bob's coupon for the bakery", { userId: "bob", expiresAt: T0 + DAY })).results;

    clock.now = T0 + 2 * DAY;
    // Expired records are already hidden from every read, before forgetting removes them.
    expect(await m.get(promo!.id, { userId: "alice" })).toBeNull();
    expect((await m.search("promo code", { userId: "alice" })).map((r) => r.id)).not.toContain(promo!.id);
    expect((await m.getAll({ userId: "alice" })).map((r) => r.id)).not.toContain(promo!.id);
    const bobBefore = await m.getAll({ userId: "bob" });
    expect(bobBefore).toHaveLength(2);
    expect((await m.getAll({ userId: "alice" })).length).toBe(7);

    const report = await m.forget({ userId: "alice", maxRecords: 5 });

    expect(report).toEqual({ merged: 1, evicted: 1, expired: 1, removedIds: [promo!.id, movedAgain!.id, time!.id], pending: false });
    const after = await m.getAll({ userId: "alice" });
    expect(after.map((r) => r.id).sort()).toEqual([moved!.id, fact!.id, peanuts!.id, walnuts!.id, weather!.id].sort());
    const kept = after.find((r) => r.id === moved!.id)!;
    expect(kept.content).toBe("I moved to Oslo last spring.");
    expect(kept.source).toEqual({ threadId: "t1", messageIds: ["m1", "m9"] });
    expect(kept.importance).toBe(0.9);

    expect(await lastEvent(m, promo!.id, "alice")).toEqual(["DELETE", "ttl"]);
    expect(await lastEvent(m, movedAgain!.id, "alice")).toEqual(["DELETE", "dedupe"]);
    expect(await lastEvent(m, time!.id, "alice")).toEqual(["DELETE", "cap"]);
    const keptHistory = await m.history(moved!.id, { userId: "alice" });
    expect(keptHistory.map((e) => [e.event, e.reason])).toEqual([["ADD", "add"], ["UPDATE", "dedupe"]]);
    expect(keptHistory[1]).toMatchObject({ oldContent: "I moved to Oslo last spring.", newContent: "I moved to Oslo last spring.", at: T0 + 2 * DAY });
    for (const record of after) expect((await lastEvent(m, record.id, "alice"))[0]).not.toBe("DELETE");

    const bobAfter = await m.getAll({ userId: "bob" });
    expect(bobAfter).toEqual(bobBefore);
    expect(await m.history(coupon!.id, { userId: "bob" })).toHaveLength(1);

    // Search finds the move once as an episode now, not twice.
    const hits = await m.search("Where did I move?", { userId: "alice", limit: 10 });
    expect(hits.filter((h) => h.kind === "episode" && h.content.startsWith("I moved to Oslo")).map((h) => h.id)).toEqual([moved!.id]);

    // A second pass has nothing left to do.
    expect(await m.forget({ userId: "alice", maxRecords: 5 })).toEqual({ merged: 0, evicted: 0, expired: 0, removedIds: [], pending: false });
  });

  it("refuses bad rules with INVALID_OPTIONS, and a bad user with INVALID_USER_ID, removing nothing", async () => {
    const clock = { now: T0 };
    const m = memoryAt("forget-invalid", clock);
    const added = await m.add("Carol keeps bees on her roof", { userId: "carol", expiresAt: T0 + 1 });
    await m.add("Carol keeps bees on her roof!", { userId: "carol" });
    clock.now = T0 + DAY;
    const bad: Array<Record<string, unknown>> = [
      { dedupeThreshold: 0 },
      { dedupeThreshold: 1.5 },
      { dedupeThreshold: "high" },
      { halfLifeDays: 0 },
      { halfLifeDays: -1 },
      { maxRecords: 0 },
      { maxRecords: 3.5 },
      { maxRecords: Number.NaN },
    ];
    for (const rules of bad) await expectCode(m.forget({ userId: "carol", ...rules }), "INVALID_OPTIONS");
    await expectCode(m.forget({ userId: { $ne: "x" } } as never), "INVALID_USER_ID");
    await expectCode(m.forget(undefined as never), "INVALID_USER_ID");
    // Nothing was removed: the expired record is still only added, and the pair is still two.
    expect(await m.history(added.results[0]!.id, { userId: "carol" })).toHaveLength(1);
    expect(await m.getAll({ userId: "carol" })).toHaveLength(1);
    expect((await m.forget({ userId: "carol", dedupeThreshold: 1 })).expired).toBe(1);
  });

  it("narrows to a thread when one is given", async () => {
    const clock = { now: T0 };
    const m = memoryAt("forget-thread", clock);
    await m.add([{ role: "user", id: "a", content: "I take the 7:40 train to work every morning." }], { userId: "dana", threadId: "trip" });
    await m.add([{ role: "user", id: "b", content: "I take the 7:40 train to work every morning" }], { userId: "dana", threadId: "trip" });
    await m.add([{ role: "user", id: "c", content: "I take the 7:40 train to work every morning." }], { userId: "dana", threadId: "other" });
    const report = await m.forget({ userId: "dana", threadId: "trip" });
    expect(report.merged).toBe(1);
    const left = await m.getAll({ userId: "dana" });
    expect(left.map((r) => r.scope.threadId).sort()).toEqual(["other", "trip"]);
  });
});

describe("Memory.forget when the store goes down after planning", () => {
  it("keeps the plan's writes in the outbox and applies them all, once, when the server is back", async () => {
    const dir = await tempDir();
    const path = join(dir, "chroma");
    const port = await freePort();
    let server = await startChromaServer({ path, port, maxRestarts: 0 });
    const inner = new ChromaStore({ client: async () => new ChromaClient({ host: "127.0.0.1", port }) });
    // The real store; the server is killed right after forget() has read the records.
    const store = new KillAfterLoad(inner, () => killChroma(path));
    const clock = { now: T0 };
    const m = memories.track(new Memory({ dataDir: join(dir, "data"), embeddings, store, clock: () => clock.now }));
    const [kept] = (await m.add([{ role: "user", id: "x1", content: "We adopted a beagle called Pixel." }], { userId: "eve", threadId: "t1", importance: 0.8 })).results;
    const [copy] = (await m.add([{ role: "user", id: "x2", content: "We adopted a beagle called Pixel" }], { userId: "eve", threadId: "t2" })).results;
    const [old] = (await m.add("Eve's parking ticket number is 4411", { userId: "eve", expiresAt: T0 + 1 })).results;
    clock.now = T0 + DAY;

    store.armed = true;
    const report = await m.forget({ userId: "eve" });
    expect(report).toMatchObject({ merged: 1, expired: 1, evicted: 0, pending: true });
    await expectCode(m.flush(), "STORE_UNAVAILABLE");

    // Until the dead server's supervisor has exited, startChromaServer would hand back its handle.
    await waitForExit(server.pid);
    server = await startChromaServer({ path, port, maxRestarts: 0 });
    expect(await m.flush()).toEqual({ applied: 3, pending: 0 });
    expect((await m.flush()).applied).toBe(0);
    const left = await m.getAll({ userId: "eve" });
    expect(left.map((r) => [r.id, r.source.messageIds])).toEqual([[kept!.id, ["x1", "x2"]]]);
    expect(await lastEvent(m, copy!.id, "eve")).toEqual(["DELETE", "dedupe"]);
    expect(await lastEvent(m, old!.id, "eve")).toEqual(["DELETE", "ttl"]);
    expect((await m.history(kept!.id, { userId: "eve" })).map((e) => e.reason)).toEqual(["add", "dedupe"]);
    await m.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
});

/** Passes everything to a real store; once armed, calls `onLoaded` after the first read with embeddings. */
class KillAfterLoad implements EpisodicStore {
  armed = false;

  constructor(
    private readonly inner: EpisodicStore,
    private readonly onLoaded: () => void,
  ) {}

  upsert(userId: string, items: StoredRecord[]): Promise<void> {
    return this.inner.upsert(userId, items);
  }

  query(userId: string, vector: number[], k: number, filter?: StoreFilter): Promise<StoreHit[]> {
    return this.inner.query(userId, vector, k, filter);
  }

  async get(userId: string, ids: string[], options?: { embeddings?: boolean; filter?: StoreFilter }): Promise<StoreHit[]> {
    const hits = await this.inner.get(userId, ids, options);
    if (this.armed && options?.embeddings) {
      this.armed = false;
      this.onLoaded();
    }
    return hits;
  }

  list(userId: string, filter?: StoreFilter): Promise<MemoryRecord[]> {
    return this.inner.list(userId, filter);
  }

  scan(userId: string): Promise<StoredRecord[]> {
    return this.inner.scan(userId);
  }

  delete(userId: string, ids: string[]): Promise<void> {
    return this.inner.delete(userId, ids);
  }

  deleteUser(userId: string): Promise<number> {
    return this.inner.deleteUser(userId);
  }

  count(userId: string): Promise<number> {
    return this.inner.count(userId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

async function waitForExit(pid: number | undefined): Promise<void> {
  // Until it is gone, however long a loaded machine takes (200 polls of 50 ms could end first, and
  // the restart on its port below then got the dead server's handle back).
  expect(await waitFor(() => processGone(pid))).toBe(true);
  await new Promise((done) => setImmediate(done));
}

describe("Memory.scheduleForget", () => {
  it("checks its options at once, runs the pass off the call, and flush() and close() wait for it", async () => {
    const clock = { now: T0 };
    const m = memoryAt("forget-scheduled", clock);
    await m.add("Ivo's favourite tea is genmaicha.", { userId: "ivo", kind: "fact" });
    await m.add("Ivo's favourite tea is genmaicha!", { userId: "ivo", kind: "fact" });
    expect(() => m.scheduleForget({ userId: "" })).toThrow(expect.objectContaining({ code: "INVALID_USER_ID" }));
    expect(() => m.scheduleForget({ userId: "ivo", maxRecords: -1 })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));

    const errors: unknown[] = [];
    m.scheduleForget({ userId: "ivo" }, (error) => errors.push(error));
    await m.flush();
    expect(errors).toEqual([]);
    expect(await m.getAll({ userId: "ivo", kind: "fact" })).toHaveLength(1);

    // A pass in flight when close() is called ends before the database closes: its merge lands.
    // The same sentence told in two threads: two records, one meaning.
    await m.add("Ivo walks his dog at 7am.", { userId: "ivo", threadId: "t1", kind: "fact" });
    await m.add("Ivo walks his dog at 7am.", { userId: "ivo", threadId: "t2", kind: "fact" });
    m.scheduleForget({ userId: "ivo" }, (error) => errors.push(error));
    await m.close();
    expect(errors).toEqual([]);
    expect(() => m.scheduleForget({ userId: "ivo" })).toThrow(expect.objectContaining({ code: "CLOSED" }));
    const reopened = memoryAt("forget-scheduled", clock);
    const left = (await reopened.getAll({ userId: "ivo", kind: "fact" })).map((record) => record.content).sort();
    expect(left).toHaveLength(2);
    expect(left[0]).toBe("Ivo walks his dog at 7am.");
    expect(left[1]).toMatch(/^Ivo's favourite tea is genmaicha[.!]$/);
  });
});
