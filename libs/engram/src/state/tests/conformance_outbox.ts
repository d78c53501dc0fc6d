import { expect, it } from "@jest/globals";
import { entry, type Payload, type StateKit } from "./conformance_kit.js";

/**
 * The outbox queue: supersession by (user, key), order, attempts and errors, seqs never reused,
 * completeApplied.
 */
export function outboxCases({ store, one }: StateKit): void {
  it("outbox: a newer write of the same (user, key) supersedes the queued one, which completes as nothing", async () => {
    const outbox = (await one()).outbox<Payload>();
    const [first] = await outbox.enqueue([{ userId: "alice", key: "upsert:a", payload: { v: 1 } }]);
    const [other] = await outbox.enqueue([{ userId: "bob", key: "upsert:a", payload: { v: 9 } }]);
    const [second] = await outbox.enqueue([{ userId: "alice", key: "upsert:a", payload: { v: 2 } }]);
    expect(second!).toBeGreaterThan(first!);
    expect(await outbox.size("alice")).toBe(1);
    expect((await outbox.find("alice", "upsert:a"))!.payload).toEqual({ v: 2 });
    // The drainer that applied v1 completes its seq: the newer write stays queued.
    expect(await outbox.complete([first!])).toEqual([]);
    expect((await outbox.pending({ userId: "alice" })).map((w) => w.seq)).toEqual([second]);
    // Within one batch the last item wins, and every item gets its own seq.
    const batch = await outbox.enqueue([
      { userId: "carol", key: "k", payload: { v: 1 } },
      { userId: "carol", key: "k", payload: { v: 2 } },
    ]);
    expect(batch).toHaveLength(2);
    expect(batch[1]!).toBeGreaterThan(batch[0]!);
    expect((await outbox.pending({ userId: "carol" })).map((w) => [w.seq, w.payload.v])).toEqual([[batch[1], 2]]);
    expect((await outbox.find("bob", "upsert:a"))!.seq).toBe(other);
  });

  it("outbox: a write marked keepQueued leaves a queued write of its key in place, on any instance, and is queued where none is", async () => {
    const open = await store();
    const [a, b] = [await open(), await open()];
    const update = (v: number) => ({ ...entry("dana", "m2", `v${v}`, 2_000 + v), event: "UPDATE" as const, reason: "update" });
    const [users] = await a.outbox<Payload>().enqueue([{ userId: "dana", key: "upsert:m2", payload: { v: 1 }, history: update(1) }]);
    // Another instance's write decided on an older copy: it must not replace the user's own.
    const [kept, fresh, plain] = await b.outbox<Payload>().enqueue([
      { userId: "dana", key: "upsert:m2", payload: { v: 2 }, history: update(2), keepQueued: true },
      { userId: "dana", key: "delete:m3", payload: { v: 3 }, keepQueued: true },
      { userId: "dana", key: "upsert:m4", payload: { v: 4 } },
    ]);
    expect(kept).toBe(users);
    const pending = await a.outbox<Payload>().pending({ userId: "dana" });
    expect(pending.map((w) => [w.key, w.payload.v])).toEqual([
      ["upsert:m2", 1],
      ["delete:m3", 3],
      ["upsert:m4", 4],
    ]);
    expect(pending.map((w) => w.seq)).toEqual([users, fresh, plain]);
    // The dropped write records nothing: only the user's entry is carried.
    expect(pending[0]!.history!.map((e) => e.newContent)).toEqual(["v1"]);
  });

  it("outbox: a write that replaces a queued one carries its history entries, ahead of its own, on any instance", async () => {
    const open = await store();
    const [a, b] = [await open(), await open()];
    const update = (v: number) => ({ ...entry("alice", "m1", `v${v}`, 1_000 + v), event: "UPDATE" as const, reason: "update" });
    await a.outbox<Payload>().enqueue([{ userId: "alice", key: "upsert:m1", payload: { v: 1 }, history: update(1) }]);
    // Another instance replaces it before any drain; a write with no entry of its own still carries the rest.
    await b.outbox<Payload>().enqueue([{ userId: "alice", key: "upsert:m1", payload: { v: 2 }, history: update(2) }]);
    await a.outbox<Payload>().enqueue([{ userId: "alice", key: "upsert:m1", payload: { v: 3 } }]);
    const [row] = await b.outbox<Payload>().pending({ userId: "alice" });
    expect(row!.history!.map((e) => e.newContent)).toEqual(["v1", "v2"]);
    // Another user's and another key's queued writes carry nothing over.
    await a.outbox<Payload>().enqueue([
      { userId: "bob", key: "upsert:m1", payload: { v: 4 }, history: entry("bob", "m1", "bob's") },
      { userId: "alice", key: "upsert:m2", payload: { v: 5 }, history: entry("alice", "m2", "other") },
    ]);
    const rows = await a.outbox<Payload>().pending();
    expect(rows.map((w) => [w.userId, w.key, w.history!.map((e) => e.newContent)])).toEqual([
      ["alice", "upsert:m1", ["v1", "v2"]],
      ["bob", "upsert:m1", ["bob's"]],
      ["alice", "upsert:m2", ["other"]],
    ]);
    // Completing the replaced write's seq records nothing; completing the row records all it carries.
    expect(await a.outbox().completeApplied([{ seq: row!.seq, history: row!.history! }])).toEqual([row!.seq]);
    expect((await a.history.forMemory("m1", "alice")).map((e) => [e.event, e.newContent, e.at])).toEqual([
      ["UPDATE", "v1", 1_001],
      ["UPDATE", "v2", 1_002],
    ]);
  });

  it("outbox: findMany reads many keys of one user at once, as find reads each (the user's only)", async () => {
    const outbox = (await one()).outbox<Payload>();
    await outbox.enqueue([
      { userId: "alice", key: "upsert:a", payload: { v: 1 } },
      { userId: "alice", key: "delete:b", payload: { v: 2 } },
      { userId: "bob", key: "upsert:c", payload: { v: 3 } },
      { userId: "alice", key: "upsert:a", payload: { v: 4 } },
    ]);
    const keys = ["upsert:a", "delete:a", "delete:b", "upsert:c", "upsert:it's \"quoted\"", ...Array.from({ length: 3_000 }, (_, i) => `upsert:x${i}`)];
    const many = await outbox.findMany("alice", keys);
    const each = (await Promise.all(keys.map((key) => outbox.find("alice", key)))).filter((write) => write !== undefined);
    const byKey = <W extends { key: string }>(writes: W[]) => [...writes].sort((a, b) => a.key.localeCompare(b.key));
    expect(byKey(many)).toEqual(byKey(each));
    expect(byKey(many).map((w) => [w.key, w.payload.v])).toEqual([["delete:b", 2], ["upsert:a", 4]]);
    expect(await outbox.findMany("bob", ["upsert:a", "upsert:c"])).toEqual([await outbox.find("bob", "upsert:c")]);
    expect(await outbox.findMany("alice", [])).toEqual([]);
    expect(await outbox.findMany("carol", keys)).toEqual([]);
  });

  it("outbox: queued oldest first, with attempts and errors; a payload that is not JSON queues nothing", async () => {
    const outbox = (await one()).outbox<Payload>();
    const seqs = await outbox.enqueue([1, 2, 3].map((v) => ({ userId: v === 2 ? "bob" : "alice", key: `k${v}`, payload: { v } })));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect((await outbox.pending()).map((w) => w.payload.v)).toEqual([1, 2, 3]);
    expect((await outbox.pending({ limit: 2 })).map((w) => w.payload.v)).toEqual([1, 2]);
    await outbox.fail([seqs[0]!], "store down");
    const [failed] = await outbox.pending({ limit: 1 });
    expect(failed).toMatchObject({ attempts: 1, lastError: "store down", userId: "alice", key: "k1" });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(
      outbox.enqueue([
        { userId: "alice", key: "fine", payload: { v: 4 } },
        { userId: "alice", key: "bad", payload: cyclic as unknown as Payload },
      ]),
    ).rejects.toMatchObject({ code: "OUTBOX_ERROR" });
    expect(await outbox.find("alice", "fine")).toBeUndefined();
    expect(await outbox.size()).toBe(3);
  });

  it("outbox: seqs are never handed out again, also by another instance after everything completed", async () => {
    const open = await store();
    const a = await open();
    const first = await a.outbox<Payload>().enqueue([1, 2, 3].map((v) => ({ userId: "alice", key: `k${v}`, payload: { v } })));
    expect(await a.outbox().complete(first)).toEqual(first);
    expect(await a.outbox().size()).toBe(0);
    const b = await open();
    const later = await b.outbox<Payload>().enqueue([{ userId: "alice", key: "k1", payload: { v: 1 } }]);
    expect(later[0]!).toBeGreaterThan(Math.max(...first));
  });

  it("outbox: completeApplied records the history of the writes it removed, once", async () => {
    const state = await one();
    const outbox = state.outbox<Payload>();
    const [a, b] = await outbox.enqueue([
      { userId: "alice", key: "upsert:m1", payload: { v: 1 } },
      { userId: "alice", key: "delete:m2", payload: { v: 2 } },
    ]);
    const writes = [
      { seq: a!, history: [entry("alice", "m1", "applied")] },
      { seq: b!, history: [] },
    ];
    expect(await outbox.completeApplied(writes)).toEqual([a, b]);
    // A second drainer that applied the same writes removes nothing and records nothing.
    expect(await outbox.completeApplied(writes)).toEqual([]);
    expect((await state.history.forMemory("m1", "alice")).map((e) => e.newContent)).toEqual(["applied"]);
    expect(await state.history.countUser("alice")).toBe(1);
  });
}
