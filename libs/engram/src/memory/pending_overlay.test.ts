import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import type { MemoryRecord } from "../core/types.js";
import { SqliteState } from "../state/sqlite/index.js";
import { drainedOver, PendingOverlay, validatePendingReads, withQueued, type PendingView } from "./pending_overlay.js";
import { versionOf } from "./erased_updates.js";
import { LexicalStats } from "./pending_lexical.js";
import type { WriteOp } from "./writer.js";

// The view a search takes of a user's queued writes, read from a real SQLite outbox.

let dir: string;
let state: SqliteState;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-overlay-"));
  state = new SqliteState({ path: dir });
});

afterEach(async () => {
  await state.close();
  await rm(dir, { recursive: true, force: true });
});

function record(id: string, content: string, userId = "alice"): MemoryRecord {
  return { id, scope: { userId }, kind: "episode", content, importance: 0.5, createdAt: 1, updatedAt: 1, lastAccessedAt: 1, source: {}, metadata: {} };
}

const upsert = (id: string, content: string, extra: { ifStored?: boolean; embedding?: number[] } = {}): WriteOp => ({
  op: "upsert",
  record: record(id, content),
  history: null,
  ...extra,
});
const del = (id: string): WriteOp => ({ op: "delete", id, history: null });
const keyOf = (op: WriteOp) => (op.op === "upsert" ? `upsert:${op.record.id}` : `delete:${op.id}`);

/** The view as the drain leaves it over a store holding `stored` ids (as `record(id, "stored")`). */
const over = (view: PendingView, stored: string[] = []) => drainedOver(view.writes, (id) => (stored.includes(id) ? record(id, "stored") : undefined));

/** A deterministic embedding that counts the texts it embeds. */
function countingEmbed(): { embed: (texts: string[]) => Promise<number[][]>; texts: string[] } {
  const texts: string[] = [];
  return {
    texts,
    embed: async (batch) => {
      texts.push(...batch);
      return batch.map((text) => [text.length, 1, 0]);
    },
  };
}

describe("PendingOverlay: a user's queued writes as one search sees them", () => {
  it("the latest queued write of each record wins; deletes hide; another user's rows are never read", async () => {
    const outbox = state.outbox<WriteOp>();
    const queue = (userId: string, ops: WriteOp[]) => outbox.enqueue(ops.map((payload) => ({ userId, key: keyOf(payload), payload })));
    await queue("alice", [upsert("a", "first"), upsert("b", "gone soon"), upsert("c", "kept")]);
    await queue("alice", [del("b"), upsert("a", "second")]);
    // Deleted, then added again: the add is the latest write.
    await queue("alice", [del("c"), upsert("c", "back again")]);
    await queue("bob", [upsert("x", "bob's")]);
    const { embed, texts } = countingEmbed();
    const view = (await new PendingOverlay(outbox, embed).read("alice"))!;
    // Re-queueing a key replaces its row: a and c have one row each.
    expect(view.rows).toBe(5);
    const drained = over(view, ["b", "c"]);
    expect([...drained.deleted]).toEqual(["b"]);
    expect([...drained.upserts.keys()].sort()).toEqual(["a", "c"]);
    expect(drained.upserts.get("a")?.record.content).toBe("second");
    expect(drained.upserts.get("c")?.record.content).toBe("back again");
    // b's upsert is superseded by its delete, which always lands: it is never read, so never embedded.
    expect(texts.sort()).toEqual(["back again", "second"]);
  });

  it("leaves a bulk queue to the drain: more texts to embed than its cap and read gives undefined, embedding nothing", async () => {
    const outbox = state.outbox<WriteOp>();
    const queue = (ops: WriteOp[]) => outbox.enqueue(ops.map((payload) => ({ userId: "alice", key: keyOf(payload), payload })));
    await queue([upsert("a", "one"), upsert("b", "two"), upsert("c", "three", { embedding: [0, 1, 0] })]);
    const { embed, texts } = countingEmbed();
    // Two texts need a vector: a cap of 1 refuses, a cap of 2 reads them.
    expect(await new PendingOverlay(outbox, embed, { maxEmbedPerRead: 1 }).read("alice")).toBeUndefined();
    expect(texts).toEqual([]);
    const view = await new PendingOverlay(outbox, embed, { maxEmbedPerRead: 2 }).read("alice");
    expect([...over(view!).upserts.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(texts.sort()).toEqual(["one", "two"]);
  });

  it("embeds each queued row once, uses a queued vector as is, and forgets rows once drained", async () => {
    const outbox = state.outbox<WriteOp>();
    const queue = (ops: WriteOp[]) => outbox.enqueue(ops.map((payload) => ({ userId: "alice", key: keyOf(payload), payload })));
    const [first] = await queue([upsert("a", "needs a vector")]);
    await queue([upsert("b", "has one", { embedding: [0, 0, 1], ifStored: true })]);
    const { embed, texts } = countingEmbed();
    const overlay = new PendingOverlay(outbox, embed);
    const one = (await overlay.read("alice"))!;
    const two = (await overlay.read("alice"))!;
    expect(texts).toEqual(["needs a vector"]);
    expect(over(two, ["b"]).upserts.get("a")?.vector).toEqual(over(one, ["b"]).upserts.get("a")?.vector);
    expect(over(two, ["b"]).upserts.get("b")?.vector).toEqual([0, 0, 1]);
    // An update (ifStored) of a record not stored is dropped by the drain: not shown.
    expect(over(two).upserts.has("b")).toBe(false);
    // Drained: the row is gone, and so is the view's entry; a new row of the same record is embedded anew.
    await outbox.complete([first!]);
    expect(over((await overlay.read("alice"))!).upserts.has("a")).toBe(false);
    await queue([upsert("a", "needs a vector")]);
    await overlay.read("alice");
    expect(texts).toEqual(["needs a vector", "needs a vector"]);
    const empty = await overlay.read("carol");
    expect(empty!.rows).toBe(0);
  });

  it("a failed embedding fails the read and is tried again on the next", async () => {
    const outbox = state.outbox<WriteOp>();
    await outbox.enqueue([{ userId: "alice", key: "upsert:a", payload: upsert("a", "text") }]);
    let calls = 0;
    const overlay = new PendingOverlay(outbox, async (batch) => {
      calls += 1;
      if (calls === 1) throw new Error("model down");
      return batch.map(() => [1, 0]);
    });
    await expect(overlay.read("alice")).rejects.toThrow("model down");
    expect(over((await overlay.read("alice"))!).upserts.get("a")?.vector).toEqual([1, 0]);
  });

  it("a text the model refuses gets no vector, the read goes on, and the next read asks the model again", async () => {
    const outbox = state.outbox<WriteOp>();
    await outbox.enqueue([
      { userId: "dora", key: "upsert:p", payload: upsert("p", "poison pill") },
      { userId: "dora", key: "upsert:c", payload: upsert("c", "Dora keeps two cats") },
    ]);
    const asked: string[] = [];
    let refuse = true;
    const overlay = new PendingOverlay(outbox, async (batch) => {
      asked.push(...batch);
      if (refuse && batch.some((text) => text.includes("poison"))) throw new EngramError("EMBEDDING_FAILED", "The model refused a text.");
      return batch.map(() => [0, 1]);
    });
    const first = over((await overlay.read("dora"))!);
    expect(first.upserts.get("c")?.vector).toEqual([0, 1]);
    expect(first.upserts.get("p")?.vector).toEqual([]);
    refuse = false;
    expect(over((await overlay.read("dora"))!).upserts.get("p")?.vector).toEqual([0, 1]);
    // The cats' vector was kept from the first read; the refused text was asked for again.
    expect(asked.filter((text) => text.includes("cats"))).toHaveLength(1);
    expect(asked.filter((text) => text.includes("poison"))).toHaveLength(2);
  });

  it("recallIndex.pending accepts overlay or drain", () => {
    expect(validatePendingReads(undefined)).toBe("overlay");
    expect(validatePendingReads("drain")).toBe("drain");
    expect(() => validatePendingReads("later")).toThrow(/recallIndex.pending/);
  });
});

describe("withQueued: getAll's and get's view of the store list with the queued writes applied", () => {
  it("a delete hides, an upsert replaces or adds, an update only over a stored record with no delete before it; filtered, newest first, embedding nothing", async () => {
    const outbox = state.outbox<WriteOp>();
    const { embed, texts } = countingEmbed();
    const overlay = new PendingOverlay(outbox, embed);
    const at = (r: MemoryRecord, createdAt: number): MemoryRecord => ({ ...r, createdAt });
    const stored = [at(record("s3", "stored three"), 3), at(record("s2", "stored two"), 2), at(record("s1", "stored one"), 1)];
    const queue = (ops: WriteOp[]) => outbox.enqueue(ops.map((payload) => ({ userId: "alice", key: keyOf(payload), payload })));
    const upsertAt = (id: string, content: string, createdAt: number, extra: { ifStored?: boolean } = {}, kind: MemoryRecord["kind"] = "episode"): WriteOp => ({
      op: "upsert",
      record: { ...at(record(id, content), createdAt), kind },
      history: null,
      ...extra,
    });
    await queue([
      del("s1"),
      upsertAt("s2", "stored two, changed", 2),
      upsertAt("n5", "new five", 5),
      // Updates: of a record not stored (dropped by the drain), and of one deleted before it is queued.
      upsert("gone", "an update of nothing", { ifStored: true }),
      del("s3"),
      upsertAt("s3", "an update after a delete", 3, { ifStored: true }),
      upsertAt("p", "a procedure", 9, {}, "procedure"),
    ]);
    await outbox.enqueue([{ userId: "bob", key: "upsert:b", payload: upsert("b", "bob's") }]);
    const queued = await overlay.records("alice");
    expect(withQueued(stored, queued, { kind: "episode" }).map((r) => [r.id, r.content])).toEqual([
      ["n5", "new five"],
      ["s2", "stored two, changed"],
    ]);
    expect(withQueued(stored, queued, { kind: "procedure" }).map((r) => r.id)).toEqual(["p"]);
    expect(withQueued([], await overlay.records("nobody"), {})).toEqual([]);
    expect(texts).toEqual([]);
  });

  it("a write conditioned on a stored version (ifStoredAs) shows only where the condition holds over the store and the writes before it", async () => {
    const outbox = state.outbox<WriteOp>();
    const overlay = new PendingOverlay(outbox, countingEmbed().embed);
    const kept = record("k", "kept as read");
    const dup = record("d", "duplicate");
    const asRead = [versionOf(kept)];
    const changed = { ...kept, content: "changed by the user", updatedAt: 2 };
    // A merge of d into k, decided on k and d as read: k's upsert, then d's delete conditioned on both.
    const merge: WriteOp[] = [
      { op: "upsert", record: kept, embedding: [1, 0, 0], history: null, ifStoredAs: [{ id: "k", versions: asRead }] },
      { op: "delete", id: "d", history: null, ifStoredAs: [{ id: "d", versions: [versionOf(dup)] }, { id: "k", versions: asRead }] },
    ];
    await outbox.enqueue(merge.map((payload) => ({ userId: "alice", key: keyOf(payload), payload, keepQueued: true })));
    const queued = await overlay.records("alice");
    // k as read: the merge lands, d is hidden.
    expect(withQueued([kept, dup], queued, {}).map((r) => r.id)).toEqual(["k"]);
    // A list without k (a getAll narrowed by a filter, a get of d) checks the merge against k read
    // from outside the list: d is hidden only with k known as read.
    expect(withQueued([dup], queued, {}).map((r) => r.id)).toEqual(["d"]);
    expect(withQueued([dup], queued, {}, [kept]).map((r) => r.id)).toEqual(["k"]);
    // k changed since (stored already): both writes will be dropped; nothing of the merge shows.
    expect(withQueued([changed, dup], queued, {}).map((r) => [r.id, r.content]).sort()).toEqual([
      ["d", "duplicate"],
      ["k", "changed by the user"],
    ]);
    // k's change still queued when the pass queues its writes: the merge of k does not replace it
    // (keepQueued), and d's delete, checked after the update lands, will be dropped: the update shows.
    await outbox.complete((await outbox.pending({ userId: "alice" })).map((row) => row.seq));
    await outbox.enqueue([{ userId: "alice", key: "upsert:k", payload: { op: "upsert", record: changed, embedding: [0, 1, 0], history: null, ifStored: true } }]);
    await outbox.enqueue(merge.map((payload) => ({ userId: "alice", key: keyOf(payload), payload, keepQueued: true })));
    const view = (await overlay.read("alice"))!;
    const drained = over(view, []);
    expect(drained.upserts.size + drained.deleted.size).toBe(0); // nothing stored: the update and the merge all drop
    const overStored = drainedOver(view.writes, (id) => ({ k: kept, d: dup })[id]);
    expect([...overStored.upserts.values()].map((item) => [item.record.content, item.vector])).toEqual([["changed by the user", [0, 1, 0]]]);
    expect([...overStored.deleted]).toEqual([]);
  });
});

describe("LexicalStats: BM25 of queued memories against the stored ones", () => {
  it("scores a rarer matching term higher, counts matched query terms, and follows additions and removals", () => {
    const stats = new LexicalStats();
    for (const text of ["my garden has roses", "the garden gate is blue", "garden party on sunday"]) stats.add(text);
    const [rare, common, none] = stats.score("garden violin", ["I play the violin", "I love my garden", "nothing here"]);
    expect(rare).toBeGreaterThan(common!);
    expect(none).toBe(0);
    const [both] = stats.score("garden violin", ["violin in the garden"]);
    expect(both).toBeGreaterThan(rare!);
    // Violin stored twice: no longer rare; removed again: as before.
    stats.add("violin lessons on monday");
    stats.add("a violin concert");
    expect(stats.score("garden violin", ["I play the violin", "I love my garden", "nothing here"])[0]).toBeLessThan(rare!);
    stats.remove("violin lessons on monday");
    stats.remove("a violin concert");
    expect(stats.score("garden violin", ["I play the violin", "I love my garden", "nothing here"])).toEqual([rare, common, none]);
  });
});
