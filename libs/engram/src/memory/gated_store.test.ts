import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { resolveRanker } from "../scoring/ranker.js";
import type { EpisodicStore, StoredRecord, StoreHit, StoreRevision } from "../store/types.js";
import { GatedStore } from "./gated_store.js";
import { Recall } from "./recall.js";

/**
 * The coherence protocol of recall's in-process index (memory/gated_store.ts) against a store in
 * memory whose revision behaves as Chroma's log does, where "another instance" writes by changing
 * the store directly and advancing the revision, at chosen points of this instance's calls.
 */

function record(id: string, content: string): MemoryRecord {
  return { id, scope: { userId: "u" }, kind: "episode", content, importance: 0.5, createdAt: 1, updatedAt: 1, lastAccessedAt: 1, source: {}, metadata: {} };
}

class FakeStore implements EpisodicStore {
  readonly rows = new Map<string, StoredRecord>();
  rev: StoreRevision = { log: "log-1", count: 0 };
  /** Runs inside `scan`, after the rows were read: a write of another instance at that moment. */
  duringScan?: () => void;
  scans = 0;

  /** A write made by another instance: the records, then the revision. */
  foreign(change: () => void): void {
    change();
    this.rev = { ...this.rev, count: this.rev.count + 1 };
  }

  async upsert(_userId: string, items: StoredRecord[]): Promise<void> {
    await Promise.resolve();
    for (const item of items) this.rows.set(item.record.id, item);
    this.rev = { ...this.rev, count: this.rev.count + 1 };
  }
  async delete(_userId: string, ids: string[]): Promise<void> {
    await Promise.resolve();
    for (const id of ids) this.rows.delete(id);
    this.rev = { ...this.rev, count: this.rev.count + 1 };
  }
  async deleteUser(): Promise<number> {
    const n = this.rows.size;
    this.rows.clear();
    this.rev = { log: null, count: 0 };
    return n;
  }
  async revision(): Promise<StoreRevision> {
    await Promise.resolve();
    return { ...this.rev };
  }
  async scan(): Promise<StoredRecord[]> {
    this.scans += 1;
    const rows = [...this.rows.values()].map((row) => ({ record: { ...row.record }, embedding: row.embedding }));
    await Promise.resolve();
    this.duringScan?.();
    this.duringScan = undefined;
    return rows;
  }
  async query(): Promise<StoreHit[]> {
    return [];
  }
  async get(): Promise<StoreHit[]> {
    return [];
  }
  async list(): Promise<MemoryRecord[]> {
    return [...this.rows.values()].map((row) => row.record);
  }
  async count(): Promise<number> {
    return this.rows.size;
  }
  async close(): Promise<void> {}
}

function setup() {
  const fake = new FakeStore();
  const store = new GatedStore(fake);
  const recall = new Recall(store, resolveRanker());
  const search = async (): Promise<Record<string, string>> => {
    const ranked = await recall.rank("u", "note", [1, 0], 50, {}, 1);
    return Object.fromEntries(ranked.map((item) => [item.record.id, item.record.content]));
  };
  return { fake, store, search };
}

const row = (id: string, content: string): StoredRecord => ({ record: record(id, content), embedding: [1, 0] });

describe("recall's coherence with other instances (gated store + revisions)", () => {
  it("sees another instance's update and its delete plus add (the count is unchanged)", async () => {
    const { fake, store, search } = setup();
    await store.upsert("u", [row("a", "note a"), row("b", "note b")]);
    expect(await search()).toEqual({ a: "note a", b: "note b" });
    fake.foreign(() => fake.rows.set("a", row("a", "note a, edited")));
    expect(await search()).toEqual({ a: "note a, edited", b: "note b" });
    fake.foreign(() => fake.rows.delete("b"));
    fake.foreign(() => fake.rows.set("c", row("c", "note c")));
    expect(await search()).toEqual({ a: "note a, edited", c: "note c" });
  });

  it("keeps its index after its own writes, without a reload", async () => {
    const { fake, store, search } = setup();
    await store.upsert("u", [row("a", "note a")]);
    await search();
    const scans = fake.scans;
    await store.upsert("u", [row("b", "note b")]);
    await store.delete("u", ["a"]);
    expect(await search()).toEqual({ b: "note b" });
    expect(fake.scans).toBe(scans);
  });

  it("does not take another instance's write for its own (own write, then foreign write)", async () => {
    const { fake, store, search } = setup();
    await store.upsert("u", [row("a", "note a")]);
    await search();
    await store.upsert("u", [row("b", "note b")]);
    fake.foreign(() => fake.rows.delete("a"));
    expect(await search()).toEqual({ b: "note b" });
  });

  it("a foreign write that lands while the index is built is seen at the next search", async () => {
    const { fake, store, search } = setup();
    await store.upsert("u", [row("a", "note a")]);
    fake.duringScan = () => fake.foreign(() => fake.rows.set("a", row("a", "note a, edited")));
    expect(await search()).toEqual({ a: "note a" }); // read before the write: fine, it was not acknowledged yet
    expect(await search()).toEqual({ a: "note a, edited" });
  });

  it("its own writes wait for a build in progress, so a build never counts them twice", async () => {
    const { fake, store, search } = setup();
    await store.upsert("u", [row("a", "note a")]);
    let writeDone = false;
    fake.duringScan = () => {
      void store.upsert("u", [row("b", "note b")]).then(() => (writeDone = true));
    };
    const first = search();
    expect((await first).a).toBe("note a");
    await new Promise((resolve) => setImmediate(resolve));
    expect(writeDone).toBe(true);
    // Then another instance writes once: the index must not be taken as current.
    fake.foreign(() => fake.rows.set("a", row("a", "note a, edited")));
    expect(await search()).toEqual({ a: "note a, edited", b: "note b" });
  });

  it("after an erase (the log is dropped and made anew) nothing of before is returned", async () => {
    const { fake, store, search } = setup();
    await store.upsert("u", [row("a", "note a")]);
    await search();
    // Another instance erases the user and writes one record: the count is 1 as before.
    fake.rows.clear();
    fake.rev = { log: "log-2", count: 0 };
    fake.foreign(() => fake.rows.set("z", row("z", "note z")));
    expect(await search()).toEqual({ z: "note z" });
  });
});
