import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import type { MemoryRecord } from "../core/types.js";
import { SqliteState } from "../state/sqlite/index.js";
import type { HistoryState, OutboxState } from "../state/types.js";
import type { EpisodicStore, StoredRecord, StoreHit } from "../store/types.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Writer, type StoredAs, type UpsertOp, type WriteOp } from "./writer.js";
import { versionOf } from "./erased_updates.js";

/**
 * The drain's isolation of a refused write (memory/writer.ts), hermetic: the outbox and history
 * are the real SQLite ones and the vectors come from the test embedding; the store is the only
 * fake. It refuses, whole, any call holding a record it is told to refuse (as Chroma refuses a
 * batch for one bad record), or is unreachable, or fails a record's first try only.
 */
class FakeStore implements EpisodicStore {
  readonly records = new Map<string, StoredRecord>();
  /** Each successful write of an id (an upsert or a delete), to prove nothing lands twice. */
  readonly landed: string[] = [];
  /** Every call made, as the ids it carried. */
  readonly calls: Array<{ method: string; ids: string[] }> = [];
  /** Ids the store refuses, every time. */
  readonly refuse = new Set<string>();
  /** Ids the store refuses once (a lock, a restart), then takes. */
  readonly refuseOnce = new Set<string>();
  /** Unreachable: every call fails, reads included. */
  down: "no" | "unavailable" | "plain" = "no";
  countCalls = 0;

  private check(method: string, ids: string[]): void {
    this.calls.push({ method, ids });
    if (this.down === "unavailable") throw new EngramError("STORE_UNAVAILABLE", "Chroma is not answering (fake).");
    // A driver error, not an EngramError: the writer cannot tell it from a refusal without asking.
    if (this.down === "plain") throw new Error("fetch failed: ECONNREFUSED (fake)");
    const bad = ids.find((id) => this.refuse.has(id) || this.refuseOnce.has(id));
    if (bad !== undefined) {
      this.refuseOnce.delete(bad);
      throw new EngramError("STORE_ERROR", `Chroma refused the batch: record ${bad} is invalid (fake).`);
    }
  }

  async upsert(_userId: string, items: StoredRecord[]): Promise<void> {
    const ids = items.map((item) => item.record.id);
    this.check("upsert", ids);
    for (const item of items) this.records.set(item.record.id, item);
    this.landed.push(...ids);
  }

  async delete(_userId: string, ids: string[]): Promise<void> {
    this.check("delete", ids);
    for (const id of ids) this.records.delete(id);
    this.landed.push(...ids.map((id) => `delete:${id}`));
  }

  async count(userId: string): Promise<number> {
    this.countCalls += 1;
    this.check("count", []);
    return [...this.records.values()].filter((item) => item.record.scope.userId === userId).length;
  }

  async query(): Promise<StoreHit[]> {
    throw new Error("not used by the writer");
  }

  async get(_userId: string, ids: string[]): Promise<StoreHit[]> {
    this.check("get", []);
    return ids.flatMap((id) => {
      const item = this.records.get(id);
      return item ? [{ record: item.record, distance: 0 }] : [];
    });
  }

  async list(): Promise<MemoryRecord[]> {
    throw new Error("not used by the writer");
  }

  async scan(): Promise<StoredRecord[]> {
    throw new Error("not used by the writer");
  }

  async deleteUser(): Promise<number> {
    throw new Error("not used by the writer");
  }

  async close(): Promise<void> {}
}

const USER = "u1";
const embeddings = new HashEmbeddings();

function record(id: string, userId = USER): MemoryRecord {
  return {
    id,
    scope: { userId },
    kind: "episode",
    content: `memory ${id}`,
    importance: 0.5,
    createdAt: 1,
    updatedAt: 1,
    lastAccessedAt: 1,
    source: {},
    metadata: {},
  };
}

function upsert(id: string, withVector: boolean): WriteOp {
  return {
    op: "upsert",
    record: record(id),
    // Half the writes are queued without a vector (writes: "background"): the drain embeds them.
    ...(withVector ? { embedding: [1, 0, 0] } : {}),
    history: { memoryId: id, event: "ADD", oldContent: null, newContent: `memory ${id}`, reason: "test", at: 1 },
  };
}

let dir: string;
let state: SqliteState;
let store: FakeStore;
let outbox: OutboxState<WriteOp>;
let history: HistoryState;
let writer: Writer;
let applied: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-writer-"));
  state = new SqliteState({ path: dir });
  store = new FakeStore();
  outbox = state.outbox<WriteOp>();
  history = state.history;
  applied = [];
  writer = new Writer({
    outbox,
    store,
    embed: (texts) => embeddings.embedDocuments(texts),
    onApplied: (_userId, ops) => {
      for (const op of ops) applied.push(op.op === "upsert" ? op.record.id : `delete:${op.id}`);
    },
  });
});

afterEach(async () => {
  await state.close();
  await rm(dir, { recursive: true, force: true });
});

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `r${String(i).padStart(2, "0")}`);

async function historyEvents(id: string): Promise<string[]> {
  return (await history.forMemory(id, USER)).map((entry) => entry.event);
}

describe("Writer drain isolation (fake store)", () => {
  it("drops exactly the one record the store refuses; its 36 batch-mates land once each, with their history", async () => {
    const all = ids(37);
    const bad = "r23";
    store.refuse.add(bad);
    const seqs = await writer.enqueue(USER, all.map((id, i) => upsert(id, i % 2 === 0)));

    const result = await writer.drain(USER);

    expect(result.error).toBeUndefined();
    expect(result.applied).toBe(36);
    expect(result.pending).toBe(0);
    expect(result.refused?.map((r) => [r.seq, r.id, r.userId, r.error.code])).toEqual([[seqs[all.indexOf(bad)], bad, USER, "STORE_ERROR"]]);
    const good = all.filter((id) => id !== bad);
    expect([...store.landed].sort()).toEqual(good);
    expect([...store.records.keys()].sort()).toEqual(good);
    expect([...applied].sort()).toEqual(good);
    for (const id of good) expect(await historyEvents(id)).toEqual(["ADD"]);
    expect(await historyEvents(bad)).toEqual([]);
    expect(await outbox.size()).toBe(0);
    // The queued-without-vector writes were embedded by the drain (the test embedding's size).
    expect(store.records.get("r00")!.embedding).toEqual([1, 0, 0]);
    expect(store.records.get("r01")!.embedding).toHaveLength(64);
    // The refused one was tried alone twice (the second try), and the halving never re-sent a
    // record that had landed: a halving of 37 costs far fewer calls than one per record.
    const alone = store.calls.filter((call) => call.method === "upsert" && call.ids.length === 1 && call.ids[0] === bad);
    expect(alone).toHaveLength(2);
    expect(store.calls.filter((call) => call.method === "upsert").length).toBeLessThan(20);
    // Some writes were taken: no count probe was needed.
    expect(store.countCalls).toBe(0);
  });

  it("drops two refused records of one batch and keeps the later writes in order (an upsert then a delete)", async () => {
    const all = ids(10);
    store.refuse.add("r00").add("r09");
    await writer.enqueue(USER, all.map((id) => upsert(id, true)));
    await writer.enqueue(USER, [{ op: "delete", id: "r05", history: { memoryId: "r05", event: "DELETE", oldContent: "memory r05", newContent: null, reason: "test", at: 2 } }]);

    const result = await writer.drain(USER);

    expect(result.refused?.map((r) => r.id).sort()).toEqual(["r00", "r09"]);
    expect(result.applied).toBe(9);
    expect(result.pending).toBe(0);
    expect([...store.records.keys()].sort()).toEqual(["r01", "r02", "r03", "r04", "r06", "r07", "r08"]);
    expect(store.landed.filter((id) => id === "r05" || id === "delete:r05")).toEqual(["r05", "delete:r05"]);
    expect(await historyEvents("r05")).toEqual(["ADD", "DELETE"]);
  });

  it("a record refused once and taken on its second try lands, and nothing is dropped", async () => {
    const all = ids(8);
    store.refuseOnce.add("r03");
    await writer.enqueue(USER, all.map((id) => upsert(id, true)));

    const result = await writer.drain(USER);

    // The whole batch failed on r03's first refusal; the halves then all went through.
    expect(result.refused).toBeUndefined();
    expect(result.applied).toBe(8);
    expect([...store.landed].sort()).toEqual(all);
    expect(store.countCalls).toBe(0);
  });

  it("a lone write refused twice while the store answers a read is dropped (the count probe says the store is up)", async () => {
    store.refuse.add("r00");
    await writer.enqueue(USER, [upsert("r00", true)]);

    const result = await writer.drain(USER);

    expect(store.countCalls).toBe(1);
    expect(result.error).toBeUndefined();
    expect(result.refused?.map((r) => r.id)).toEqual(["r00"]);
    expect(result.pending).toBe(0);
    expect(store.records.size).toBe(0);
  });

  it.each([
    ["says so (STORE_UNAVAILABLE)", "unavailable" as const, "STORE_UNAVAILABLE"],
    ["fails with a plain driver error, told from a refusal by the count probe", "plain" as const, "STORE_ERROR"],
  ])("an unreachable store that %s keeps every write queued, and a later drain lands each once", async (_what, down, code) => {
    const all = ids(12);
    store.refuse.add("r07");
    store.down = down;
    await writer.enqueue(USER, all.map((id, i) => upsert(id, i % 3 === 0)));

    const result = await writer.drain(USER);

    expect(result.error?.code).toBe(code);
    expect(result.applied).toBe(0);
    expect(result.refused).toBeUndefined();
    expect(result.pending).toBe(12);
    expect(result.failed).toHaveLength(12);
    expect(store.landed).toEqual([]);
    expect(applied).toEqual([]);
    for (const id of all) expect(await historyEvents(id)).toEqual([]);
    expect((await outbox.pending({ userId: USER })).every((row) => row.attempts === 1 && row.lastError !== null)).toBe(true);
    if (down === "plain") expect(store.countCalls).toBe(1);

    store.down = "no";
    const again = await writer.drain(USER);

    expect(again.error).toBeUndefined();
    expect(again.applied).toBe(11);
    expect(again.refused?.map((r) => r.id)).toEqual(["r07"]);
    expect(again.pending).toBe(0);
    const good = all.filter((id) => id !== "r07");
    expect([...store.landed].sort()).toEqual(good);
    for (const id of good) expect(await historyEvents(id)).toEqual(["ADD"]);
  });

  it("a store that goes down mid-isolation keeps the writes it had not taken, and applies none twice", async () => {
    const all = ids(16);
    store.refuse.add("r12");
    await writer.enqueue(USER, all.map((id) => upsert(id, true)));
    // Down after the first half (r00-r07) has landed: the second half's retries meet the outage.
    const upsertOriginal = store.upsert.bind(store);
    store.upsert = async (userId, items) => {
      await upsertOriginal(userId, items);
      if (store.landed.length >= 8) store.down = "unavailable";
    };

    const result = await writer.drain(USER);

    expect(result.error?.code).toBe("STORE_UNAVAILABLE");
    expect(result.applied).toBe(8);
    expect(result.pending).toBe(8);
    expect([...store.landed].sort()).toEqual(all.slice(0, 8));

    store.down = "no";
    store.upsert = upsertOriginal;
    const again = await writer.drain(USER);

    expect(again.applied).toBe(7);
    expect(again.refused?.map((r) => r.id)).toEqual(["r12"]);
    expect([...store.landed].sort()).toEqual(all.filter((id) => id !== "r12"));
    for (const id of all) expect(await historyEvents(id)).toEqual(id === "r12" ? [] : ["ADD"]);
  });
});

describe("Writer: writes decided on a copy read earlier (ifStoredAs: forgetting, facts)", () => {
  const v = (id: string, content = `memory ${id}`, updatedAt = record(id).updatedAt): string => versionOf({ ...record(id), content, updatedAt });
  const merge = (id: string, asRead: string): UpsertOp => ({
    op: "upsert",
    record: { ...record(id), updatedAt: 5, metadata: { merged: true } },
    embedding: [0, 1, 0],
    history: { memoryId: id, event: "UPDATE", oldContent: `memory ${id}`, newContent: `memory ${id}`, reason: "dedupe", at: 5 },
    ifStoredAs: [{ id, versions: [asRead] }],
  });
  const remove = (id: string, conditions: StoredAs[]): WriteOp => ({
    op: "delete",
    id,
    history: { memoryId: id, event: "DELETE", oldContent: `memory ${id}`, newContent: null, reason: "dedupe", at: 5 },
    ifStoredAs: conditions,
  });

  it("applies a merge whose records are stored as read: the kept record's update, then its duplicate's delete", async () => {
    await writer.enqueue(USER, [upsert("k", true), upsert("d", true)]);
    await writer.drain(USER);
    const merged = versionOf(merge("k", "").record);
    await writer.enqueue(USER, [merge("k", v("k")), remove("d", [{ id: "d", versions: [v("d")] }, { id: "k", versions: [v("k"), merged] }])]);
    await writer.drain(USER);
    expect(store.records.get("k")?.record.metadata).toEqual({ merged: true });
    expect(store.records.has("d")).toBe(false);
    expect(await historyEvents("d")).toEqual(["ADD", "DELETE"]);
  });

  it("drops the writes of a merge whose kept record changed after it was read: the change stays, and so does the duplicate", async () => {
    await writer.enqueue(USER, [upsert("k2", true), upsert("d2", true)]);
    await writer.drain(USER);
    const asRead = v("k2");
    // The user's update lands between the decision and its writes.
    await writer.enqueue(USER, [{ op: "upsert", record: { ...record("k2"), content: "changed k2", updatedAt: 3 }, embedding: [0, 0, 1], history: null, ifStored: true }]);
    await writer.drain(USER);
    const merged = versionOf(merge("k2", "").record);
    await writer.enqueue(USER, [merge("k2", asRead), remove("d2", [{ id: "d2", versions: [v("d2")] }, { id: "k2", versions: [asRead, merged] }])]);
    const result = await writer.drain(USER);
    expect(result.applied).toBe(0);
    expect(store.records.get("k2")?.record.content).toBe("changed k2");
    expect(store.records.has("d2")).toBe(true);
    expect(await historyEvents("k2")).toEqual(["ADD"]);
    expect(await historyEvents("d2")).toEqual(["ADD"]);
    expect(await outbox.size(USER)).toBe(0);
  });

  it("drops a delete whose record is gone or changed, and applies one whose record is as read", async () => {
    await writer.enqueue(USER, [upsert("t1", true), upsert("t2", true)]);
    await writer.drain(USER);
    await writer.enqueue(USER, [{ op: "upsert", record: { ...record("t1"), updatedAt: 9 }, embedding: [0, 0, 1], history: null }]);
    await writer.drain(USER);
    await writer.enqueue(USER, [remove("t1", [{ id: "t1", versions: [v("t1")] }]), remove("t2", [{ id: "t2", versions: [v("t2")] }])]);
    await writer.drain(USER);
    expect(store.records.has("t1")).toBe(true);
    expect(store.records.has("t2")).toBe(false);
  });

  // A version names the whole record: a change of importance or expiry in the millisecond of the
  // record's last change (same text, same updatedAt) is a change. A condition queued by an older
  // version of Engram (text and time only) is still honoured as it was.
  it("drops a delete whose record changed in its importance alone, and honours a condition in the older format", async () => {
    await writer.enqueue(USER, [upsert("i1", true), upsert("i2", true)]);
    await writer.drain(USER);
    const asRead = v("i1");
    await writer.enqueue(USER, [{ op: "upsert", record: { ...record("i1"), importance: 1 }, embedding: [0, 0, 1], history: null }]);
    await writer.drain(USER);
    const older = JSON.stringify([record("i2").content, record("i2").updatedAt]);
    await writer.enqueue(USER, [remove("i1", [{ id: "i1", versions: [asRead] }]), remove("i2", [{ id: "i2", versions: [older] }])]);
    await writer.drain(USER);
    expect(store.records.get("i1")?.record.importance).toBe(1);
    expect(store.records.has("i2")).toBe(false);
  });
});

describe("Writer: an update of a memory deleted meanwhile (another instance's delete or deleteAll)", () => {
  function update(id: string): UpsertOp {
    return {
      op: "upsert",
      record: { ...record(id), content: `updated ${id}`, updatedAt: 2 },
      embedding: [0, 1, 0],
      history: { memoryId: id, event: "UPDATE", oldContent: `memory ${id}`, newContent: `updated ${id}`, reason: "update", at: 2 },
      ifStored: true,
    };
  }

  it("drops the update of a record no longer stored: the deleted memory does not come back and no UPDATE is recorded", async () => {
    await writer.enqueue(USER, [upsert("a", true)]);
    await writer.drain(USER);
    // Another instance checked "a" exists, then the record was deleted before its update was queued.
    await writer.enqueue(USER, [{ op: "delete", id: "a", history: null }]);
    await writer.drain(USER);
    await writer.enqueue(USER, [update("a"), upsert("b", true)]);
    await writer.drain(USER);
    expect(store.records.has("a")).toBe(false);
    expect(store.records.get("b")?.record.content).toBe("memory b");
    expect(await historyEvents("a")).toEqual(["ADD"]);
    expect(await outbox.size(USER)).toBe(0);
  });

  it("applies an update of a stored record, and an unmarked write of a record not stored yet", async () => {
    await writer.enqueue(USER, [upsert("c", true)]);
    await writer.drain(USER);
    const unmarked: WriteOp = { ...update("d"), ifStored: false };
    await writer.enqueue(USER, [update("c"), unmarked]);
    await writer.drain(USER);
    expect(store.records.get("c")?.record.content).toBe("updated c");
    expect(store.records.get("d")?.record.content).toBe("updated d");
    expect(await historyEvents("c")).toEqual(["ADD", "UPDATE"]);
  });

  it("records every update of a record that replaced another in the queue before it drained, in order", async () => {
    await writer.enqueue(USER, [upsert("f", true)]);
    await writer.drain(USER);
    // An outage keeps the first update queued; the second (this replica or another) replaces its row.
    store.down = "unavailable";
    const second: UpsertOp = { ...update("f"), record: { ...update("f").record, content: "second f" }, history: { ...update("f").history!, oldContent: "updated f", newContent: "second f", at: 3 } };
    await writer.enqueue(USER, [update("f")]);
    expect((await writer.drain(USER)).error?.code).toBe("STORE_UNAVAILABLE");
    await writer.enqueue(USER, [second]);
    expect(await outbox.size(USER)).toBe(1);
    store.down = "no";
    await writer.drain(USER);
    expect(store.records.get("f")?.record.content).toBe("second f");
    expect((await history.forMemory("f", USER)).map((entry) => [entry.event, entry.newContent])).toEqual([
      ["ADD", "memory f"],
      ["UPDATE", "updated f"],
      ["UPDATE", "second f"],
    ]);
  });

  it("records the same add queued twice before it drained (two replicas, a retried request) once, at its first time", async () => {
    store.down = "unavailable";
    await writer.enqueue(USER, [upsert("g", true)]);
    expect((await writer.drain(USER)).error?.code).toBe("STORE_UNAVAILABLE");
    const again = upsert("g", true) as UpsertOp;
    await writer.enqueue(USER, [{ ...again, history: { ...again.history!, at: 5 } }]);
    store.down = "no";
    await writer.drain(USER);
    expect((await history.forMemory("g", USER)).map((entry) => [entry.event, entry.at])).toEqual([["ADD", 1]]);
  });

  it("an outage met while the state cannot record attempts (a full disk) is reported as itself, and the writes stay queued", async () => {
    const full = new EngramError("OUTBOX_ERROR", "outbox.fail failed: database or disk is full");
    const crippled: OutboxState<WriteOp> = Object.assign(Object.create(outbox) as OutboxState<WriteOp>, { fail: async () => Promise.reject(full) });
    const stuck = new Writer({ outbox: crippled, store, embed: (texts) => embeddings.embedDocuments(texts) });
    await stuck.enqueue(USER, [upsert("h", true)]);
    store.down = "unavailable";
    const result = await stuck.drain(USER);
    expect(result.error?.code).toBe("STORE_UNAVAILABLE");
    expect(result.failed).toHaveLength(1);
    store.down = "no";
    await stuck.drain(USER);
    expect(store.records.has("h")).toBe(true);
  });

  it("keeps the update queued when the store cannot be read (an outage loses nothing)", async () => {
    await writer.enqueue(USER, [upsert("e", true)]);
    await writer.drain(USER);
    store.down = "unavailable";
    await writer.enqueue(USER, [update("e")]);
    const result = await writer.drain(USER);
    expect(result.error?.code).toBe("STORE_UNAVAILABLE");
    expect(await outbox.size(USER)).toBe(1);
    store.down = "no";
    await writer.drain(USER);
    expect(store.records.get("e")?.record.content).toBe("updated e");
  });
});

describe("Writer batching (a bulk import's drain)", () => {
  it("drains 2,600 writes in store calls of at most 1,000, in order, tagging the records queued untagged, with one history entry each", async () => {
    const tagged: string[] = [];
    const tagging = new Writer({
      outbox,
      store,
      embed: (texts) => embeddings.embedDocuments(texts),
      tag: (queued) => {
        tagged.push(queued.id);
        return { ...queued, metadata: { ...queued.metadata, entities: `tag ${queued.id}` } };
      },
    });
    const all = Array.from({ length: 2_600 }, (_, i) => `b${String(i).padStart(4, "0")}`);
    await tagging.enqueue(USER, all.map((id, i) => ({ ...(upsert(id, false) as UpsertOp), ...(i % 2 === 0 ? { tagEntities: true } : {}) })));
    // A delete queued after them lands after its upsert, in the last call.
    await tagging.enqueue(USER, [{ op: "delete", id: "b0007", history: { memoryId: "b0007", event: "DELETE", oldContent: "memory b0007", newContent: null, reason: "test", at: 2 } }]);

    const result = await tagging.drain(USER);

    expect(result).toMatchObject({ applied: 2_601, pending: 0 });
    const upserts = store.calls.filter((call) => call.method === "upsert");
    expect(upserts.every((call) => call.ids.length <= 1_000)).toBe(true);
    // Queue order: every call carries the next ids, and the delete comes last.
    expect(upserts.flatMap((call) => call.ids)).toEqual(all);
    expect(store.calls.filter((call) => call.method !== "get").at(-1)).toEqual({ method: "delete", ids: ["b0007"] });
    // Steps of 2,000 rows read at a time: 1,000 + 1,000, then 600 and the delete.
    expect(upserts.map((call) => call.ids.length)).toEqual([1_000, 1_000, 600]);
    expect(tagged).toEqual(all.filter((_, i) => i % 2 === 0));
    expect(store.records.get("b0000")!.record.metadata).toEqual({ entities: "tag b0000" });
    expect(store.records.get("b0001")!.record.metadata).toEqual({});
    expect(store.records.get("b0001")!.embedding).toHaveLength(64);
    expect(await historyEvents("b2599")).toEqual(["ADD"]);
    expect(await historyEvents("b0007")).toEqual(["ADD", "DELETE"]);
  });

  it("shares a drain that is queued and not started: drains asked for meanwhile read the outbox once", async () => {
    await writer.enqueue(USER, [upsert("x0", true)]);
    const first = writer.drain(USER);
    // Not started yet (it starts on a later tick): the next call shares it.
    expect(writer.drain(USER)).toBe(first);
    // Hold the store's next upsert, to see a started drain.
    let entered!: () => void;
    const inStore = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const upsertNow = store.upsert.bind(store);
    store.upsert = async (userId, items) => {
      entered();
      await gate;
      return upsertNow(userId, items);
    };
    await inStore;
    // Started: a write queued now is not in what it read, so a call gets a drain of its own, which
    // the calls after it share.
    await writer.enqueue(USER, [upsert("x1", true)]);
    const second = writer.drain(USER);
    expect(second).not.toBe(first);
    await writer.enqueue(USER, [upsert("x2", true)]);
    expect(writer.drain(USER)).toBe(second);
    release();
    // A drain reads again until the queue is empty: the first takes the later writes too, in a
    // second store call, and the second finds nothing left.
    expect((await first).applied).toBe(3);
    expect(await second).toMatchObject({ applied: 0, pending: 0 });
    expect(store.calls.filter((call) => call.method === "upsert").map((call) => call.ids)).toEqual([["x0"], ["x1", "x2"]]);
  });
});
