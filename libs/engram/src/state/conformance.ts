import { afterEach, describe, expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import { isEngramError } from "../core/errors.js";
import type { NewHistoryEntry, StateBackend } from "./types.js";

/**
 * How the suite gets state to test: `fresh()` makes a new, empty store and returns a function
 * that opens an instance on it. Each call of that function is another instance with its own
 * connections (another replica, or another process on the same data folder); the suite closes
 * every instance it opened.
 */
export interface ConformanceTarget {
  name: string;
  fresh(): Promise<() => StateBackend>;
}

type Payload = { v: number };

/**
 * A claim that must outlive a few round trips on a busy machine, and the wait after which it has
 * surely lapsed (an owner that "died").
 */
const LEASE_MS = 1_500;
const LAPSE_MS = 1_800;

const entry = (userId: string, memoryId: string, newContent: string, at?: number): NewHistoryEntry => ({
  memoryId,
  userId,
  event: "ADD",
  oldContent: null,
  newContent,
  reason: "add",
  ...(at === undefined ? {} : { at }),
});

/**
 * One behaviour suite for every backend of shared state (state/types.ts): SQLite and PostgreSQL
 * must both pass it unchanged. It checks the promises the rest of Engram builds on: writes
 * superseded by key, seqs never reused, every read and delete scoped by user, claims that skip
 * another live owner and take over after its lease, exclusive sections that never overlap, two
 * instances racing setup and claims, and erasure that leaves nothing of the user in any part.
 */
export function describeStateConformance(target: ConformanceTarget): void {
  const opened: StateBackend[] = [];
  /** A fresh store and a way to open instances on it (all set up, closed after the test). */
  const store = async (): Promise<() => Promise<StateBackend>> => {
    const make = await target.fresh();
    return async () => {
      const state = make();
      opened.push(state);
      await state.setup();
      return state;
    };
  };
  const one = async (): Promise<StateBackend> => (await store())();

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((state) => state.close()));
  });

  describe(`${target.name}: shared state conformance`, () => {
    it("setup is idempotent, and instances racing it all end up on one working store", async () => {
      const open = await store();
      const racers = await Promise.all([open(), open(), open(), open()]);
      await Promise.all(racers.map((state) => state.setup()));
      await racers[0]!.history.record([entry("alice", "m1", "hello")]);
      for (const state of racers) expect(await state.history.countUser("alice")).toBe(1);
    });

    it("history: entries in order, one memory of one user at a time; counts and deletes by user", async () => {
      const state = await one();
      const recorded = await state.history.record([entry("alice", "m1", "first", 5), entry("alice", "m1", "second", 5), entry("bob", "m1", "bob's")]);
      expect(recorded.map((e) => e.id).every((id) => typeof id === "string" && id.length > 0)).toBe(true);
      expect(new Set(recorded.map((e) => e.id)).size).toBe(3);
      expect((await state.history.forMemory("m1", "alice")).map((e) => e.newContent)).toEqual(["first", "second"]);
      expect((await state.history.forMemory("m1", "bob")).map((e) => e.newContent)).toEqual(["bob's"]);
      expect(await state.history.forMemory("m1", "carol")).toEqual([]);
      expect(await state.history.record([])).toEqual([]);
      expect(await state.history.deleteUser("alice")).toBe(2);
      expect(await state.history.countUser("alice")).toBe(0);
      expect(await state.history.countUser("bob")).toBe(1);
    });

    it("history: latest gives each user's newest entry time, from any instance, and forgets a deleted user", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      expect(await replicaA.history.latest()).toEqual([]);
      await replicaA.history.record([entry("alice", "m1", "old", 1_000), entry("alice", "m2", "new", 3_000), entry("bob", "m1", "bob's", 2_000)]);
      // Written later with an earlier time: the newest time wins, not the last write.
      await replicaB.history.record([entry("alice", "m3", "back-dated", 500)]);
      const byUser = (rows: Array<{ userId: string; at: number }>) => [...rows].sort((a, b) => a.userId.localeCompare(b.userId));
      const expected = [
        { userId: "alice", at: 3_000 },
        { userId: "bob", at: 2_000 },
      ];
      expect(byUser(await replicaA.history.latest())).toEqual(expected);
      expect(byUser(await replicaB.history.latest())).toEqual(expected);
      await replicaB.history.deleteUser("alice");
      expect(await replicaA.history.latest()).toEqual([{ userId: "bob", at: 2_000 }]);
    });

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
        { seq: a!, history: entry("alice", "m1", "applied") },
        { seq: b!, history: null },
      ];
      expect(await outbox.completeApplied(writes)).toEqual([a, b]);
      // A second drainer that applied the same writes removes nothing and records nothing.
      expect(await outbox.completeApplied(writes)).toEqual([]);
      expect((await state.history.forMemory("m1", "alice")).map((e) => e.newContent)).toEqual(["applied"]);
      expect(await state.history.countUser("alice")).toBe(1);
    });

    it("claim: another live owner's user is skipped, the same owner renews, and a lapsed claim is taken over", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      const seqs = await replicaA.outbox<Payload>().enqueue([
        { userId: "alice", key: "k1", payload: { v: 1 } },
        { userId: "bob", key: "k2", payload: { v: 2 } },
        { userId: "alice", key: "k3", payload: { v: 3 } },
      ]);
      const byA = await replicaA.outbox<Payload>().claim("A", LEASE_MS, { userId: "alice", limit: 1 });
      expect(byA.map((w) => w.seq)).toEqual([seqs[0]]);
      // B gets bob's write, and none of alice's: A holds her first write, so her later one waits.
      expect((await replicaB.outbox<Payload>().claim("B", 60_000)).map((w) => w.seq)).toEqual([seqs[1]]);
      expect(await replicaB.outbox<Payload>().claim("C", 60_000)).toEqual([]);
      // A claims again: its own write and the rest of alice's queue.
      expect((await replicaA.outbox<Payload>().claim("A", LEASE_MS)).map((w) => w.seq)).toEqual([seqs[0], seqs[2]]);
      // A dies: once its claim lapses, C takes alice's writes over (bob's stay B's).
      await sleep(LAPSE_MS);
      expect((await replicaB.outbox<Payload>().claim("C", 60_000)).map((w) => w.seq)).toEqual([seqs[0], seqs[2]]);
      expect(await replicaA.outbox<Payload>().claim("A", 60_000)).toEqual([]);
      // pending still lists every queued write, claimed or not.
      expect(await replicaA.outbox().size()).toBe(3);
    });

    it("claim: fail releases the claim at once, and a claimed write completes for whoever claims it next", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      const [seq] = await replicaA.outbox<Payload>().enqueue([{ userId: "alice", key: "k", payload: { v: 1 } }]);
      expect(await replicaA.outbox().claim("A", 60_000)).toHaveLength(1);
      expect(await replicaB.outbox().claim("B", 60_000)).toEqual([]);
      await replicaA.outbox().fail([seq!], "store down");
      const retried = await replicaB.outbox<Payload>().claim("B", 60_000);
      expect(retried.map((w) => [w.seq, w.attempts, w.lastError])).toEqual([[seq, 1, "store down"]]);
      expect(await replicaB.outbox().complete([seq!])).toEqual([seq]);
      expect(await replicaA.outbox().size()).toBe(0);
    });

    it("claim: two instances draining at once apply every write exactly once, each user's in order", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      const users = ["u0", "u1", "u2", "u3", "u4"];
      const items = Array.from({ length: 60 }, (_, i) => ({ userId: users[i % users.length]!, key: `k${i}`, payload: { v: i } }));
      const seqs = await replicaA.outbox<Payload>().enqueue(items);
      const applied: Array<{ seq: number; userId: string; by: string }> = [];
      const drain = async (state: StateBackend, owner: string) => {
        for (;;) {
          const writes = await state.outbox<Payload>().claim(owner, 60_000, { limit: 7 });
          if (writes.length === 0) {
            if ((await state.outbox().size()) === 0) return;
            await sleep(5);
            continue;
          }
          for (const write of writes) applied.push({ seq: write.seq, userId: write.userId, by: owner });
          await sleep(1);
          expect(await state.outbox().complete(writes.map((w) => w.seq))).toEqual(writes.map((w) => w.seq));
        }
      };
      await Promise.all([drain(replicaA, "A"), drain(replicaB, "B")]);
      expect(applied.map((a) => a.seq).sort((x, y) => x - y)).toEqual(seqs);
      for (const user of users) {
        const order = applied.filter((a) => a.userId === user).map((a) => a.seq);
        expect(order).toEqual([...order].sort((x, y) => x - y));
      }
    });

    it("jobs: one per (user, key); groups claimed whole, skipped while another owner holds them, taken over after the lease", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      const jobsA = replicaA.jobs<Payload>("facts");
      const jobsB = replicaB.jobs<Payload>("facts");
      expect(await jobsA.add({ userId: "alice", group: "t1", key: "j1", payload: { v: 1 } })).toBe(true);
      expect(await jobsB.add({ userId: "alice", group: "t1", key: "j1", payload: { v: 99 } })).toBe(false);
      await jobsA.add({ userId: "alice", group: "t1", key: "j2", payload: { v: 2 } });
      await jobsA.add({ userId: "alice", group: "t2", key: "j3", payload: { v: 3 } });
      await jobsA.add({ userId: "bob", group: "t1", key: "j1", payload: { v: 4 } });
      expect(await jobsA.groups()).toEqual([
        { userId: "alice", group: "t1" },
        { userId: "alice", group: "t2" },
        { userId: "bob", group: "t1" },
      ]);
      // Another queue of the same name space is apart.
      expect(await replicaA.jobs("summaries").size()).toBe(0);
      const claimedA = await jobsA.claim("A", LEASE_MS, { userId: "alice", group: "t1" });
      expect(claimedA.map((j) => j.payload.v)).toEqual([1, 2]);
      const claimedB = await jobsB.claim("B", 60_000);
      expect(claimedB.map((j) => j.payload.v)).toEqual([3, 4]);
      expect(await jobsB.claim("C", 60_000)).toEqual([]);
      await sleep(LAPSE_MS);
      const takenOver = await jobsB.claim("C", 60_000);
      expect(takenOver.map((j) => j.payload.v)).toEqual([1, 2]);
      await jobsB.fail(takenOver.map((j) => j.seq), "model down");
      const retried = await jobsA.claim("A", 60_000, { userId: "alice", group: "t1" });
      expect(retried.map((j) => [j.attempts, j.lastError])).toEqual([
        [1, "model down"],
        [1, "model down"],
      ]);
      expect(await jobsA.allQueued(retried.map((j) => j.seq))).toBe(true);
      await jobsA.complete(retried.map((j) => j.seq));
      expect(await jobsA.allQueued(retried.map((j) => j.seq))).toBe(false);
      expect(await jobsA.size("alice")).toBe(1);
      expect((await jobsA.pending({ userId: "bob" })).map((j) => j.payload.v)).toEqual([4]);
    });

    it("leases: take only while a key is queued; settled waits for every instance's live lease", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      expect(await replicaA.leases.take("alice", ["upsert:x"])).toBeUndefined();
      await replicaA.outbox<Payload>().enqueue([{ userId: "alice", key: "upsert:x", payload: { v: 1 } }]);
      expect(await replicaA.leases.take("bob", ["upsert:x"])).toBeUndefined();
      const lease = await replicaA.leases.take("alice", ["upsert:y", "upsert:x"]);
      expect(typeof lease).toBe("string");
      await replicaB.leases.settled("bob");
      let settled = false;
      const waiting = replicaB.leases.settled("alice").then(() => (settled = true));
      await sleep(150);
      expect(settled).toBe(false);
      await replicaA.leases.release(lease!);
      await waiting;
      expect(settled).toBe(true);
    });

    it("exclusive: one user's sections never overlap across instances; other users' run meanwhile; a throw releases", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      let inside = 0;
      let most = 0;
      const section = async () => {
        inside += 1;
        most = Math.max(most, inside);
        await sleep(20);
        inside -= 1;
      };
      await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? replicaA : replicaB).leases.exclusive("alice", "facts", section)),
      );
      expect(most).toBe(1);
      // Bob's section runs while alice's is held: if it waited for alice's, this would never end.
      let bobDone!: () => void;
      const bobRan = new Promise<void>((resolve) => (bobDone = resolve));
      await Promise.all([
        replicaA.leases.exclusive("alice", "facts", () => bobRan),
        replicaB.leases.exclusive("bob", "facts", async () => bobDone()),
        // Another name of the same user is another lock.
        replicaB.leases.exclusive("alice", "summary", async () => {}),
      ]);
      await expect(replicaA.leases.exclusive("alice", "facts", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
      expect(await replicaB.leases.exclusive("alice", "facts", async () => "next")).toBe("next");
    });

    it("meta: the first value stays unless replaced; hasData sees history or queued writes", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      expect(await replicaA.meta.get("embeddings")).toBeUndefined();
      expect(await replicaA.meta.hasData()).toBe(false);
      const [first, second] = await Promise.all([
        replicaA.meta.set("embeddings", "model-a", { replace: false }),
        replicaB.meta.set("embeddings", "model-b", { replace: false }),
      ]);
      expect(first).toBe(second);
      expect(await replicaB.meta.set("embeddings", "model-c", { replace: true })).toBe("model-c");
      expect(await replicaA.meta.get("embeddings")).toBe("model-c");
      await replicaA.outbox<Payload>().enqueue([{ userId: "alice", key: "k", payload: { v: 1 } }]);
      expect(await replicaB.meta.hasData()).toBe(true);
    });

    it("usage: summed per (user, kind), read for one user only or for everyone", async () => {
      const state = await one();
      const usage = (input: number, reported = true) => ({ inputTokens: input, outputTokens: 1, totalTokens: input + 1, reported });
      await state.usage.record({ userId: "alice", kind: "extraction", usage: usage(10) });
      await state.usage.record({ userId: "alice", kind: "extraction", usage: usage(0, false) });
      await state.usage.record({ userId: "bob", kind: "summary", usage: usage(5) });
      const alice = await state.usage.totals({ userId: "alice" });
      expect(alice).toEqual([
        expect.objectContaining({ userId: "alice", kind: "extraction", calls: 2, inputTokens: 10, outputTokens: 2, totalTokens: 12, unreported: 1 }),
      ]);
      expect(typeof alice[0]!.lastAt).toBe("number");
      expect((await state.usage.totals({})).map((row) => row.userId).sort()).toEqual(["alice", "bob"]);
      expect(await state.usage.deleteUser("alice")).toBe(2);
      expect(await state.usage.totals({ userId: "alice" })).toEqual([]);
    });

    it("filings: messages taken once per (thread, user), queued, failed, completed, dropped and forgotten", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      const filingsA = replicaA.filings();
      const filingsB = replicaB.filings();
      const m = (key: string) => ({ key, text: `message ${key}` });
      expect((await filingsA.take("t1", "alice", [m("1"), m("2")])).map((x) => x.key)).toEqual(["1", "2"]);
      expect((await filingsB.take("t1", "alice", [m("2"), m("3")])).map((x) => x.key)).toEqual(["3"]);
      expect((await filingsB.take("t1", "bob", [m("2")])).map((x) => x.key)).toEqual(["2"]);
      const pending = await filingsA.pending(10);
      expect(pending.map((p) => [p.threadId, p.userId, p.messages.map((x) => x.key)])).toEqual([
        ["t1", "alice", ["1", "2"]],
        ["t1", "alice", ["3"]],
        ["t1", "bob", ["2"]],
      ]);
      expect(pending[0]!.messages[0]).toEqual(m("1"));
      await filingsA.fail([pending[0]!.seq], "embed failed");
      expect((await filingsB.pending(1))[0]!.attempts).toBe(1);
      await filingsB.complete([pending[0]!.seq]);
      expect(await filingsA.size()).toBe(2);
      expect((await filingsA.usersOf("t1")).sort()).toEqual(["alice", "bob"]);
      expect(await filingsA.dropPending("t1")).toBe(2);
      expect(await filingsA.size()).toBe(0);
      // Taken keys stay taken until the thread is forgotten (deleteThread); then the id starts fresh.
      expect(await filingsB.take("t1", "alice", [m("1")])).toEqual([]);
      await filingsA.forgetThread("t1");
      expect((await filingsB.take("t1", "alice", [m("1")])).map((x) => x.key)).toEqual(["1"]);
    });

    it("deleteUser erases the user from every part, from any instance, and leaves other users whole", async () => {
      const open = await store();
      const [replicaA, replicaB] = [await open(), await open()];
      for (const user of ["alice", "bob"]) {
        await replicaA.history.record([entry(user, "m1", "x")]);
        await replicaA.outbox<Payload>().enqueue([{ userId: user, key: "k", payload: { v: 1 } }]);
        await replicaA.jobs<Payload>("facts").add({ userId: user, group: "g", key: "j", payload: { v: 1 } });
        await replicaA.jobs<Payload>("other").add({ userId: user, group: "g", key: "j", payload: { v: 1 } });
        await replicaA.usage.record({ userId: user, kind: "summary", usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2, reported: true } });
        await replicaA.filings().take("t1", user, [{ key: "1" }]);
      }
      await replicaB.deleteUser("alice");
      for (const state of [replicaA, replicaB]) {
        expect(await state.history.countUser("alice")).toBe(0);
        expect(await state.history.forMemory("m1", "alice")).toEqual([]);
        expect(await state.outbox().size("alice")).toBe(0);
        expect(await state.jobs("facts").size("alice")).toBe(0);
        expect(await state.jobs("other").size("alice")).toBe(0);
        expect(await state.usage.totals({ userId: "alice" })).toEqual([]);
        expect(await state.filings().usersOf("t1")).toEqual(["bob"]);
        // alice's taken keys went too: the same message files again for her.
        expect(await state.filings().size()).toBe(1);
        expect(await state.history.countUser("bob")).toBe(1);
        expect(await state.outbox().size("bob")).toBe(1);
        expect(await state.jobs("facts").size("bob")).toBe(1);
        expect(await state.jobs("other").size("bob")).toBe(1);
        expect(await state.usage.totals({ userId: "bob" })).toHaveLength(1);
      }
      expect((await replicaA.filings().take("t1", "alice", [{ key: "1" }])).map((x) => x.key)).toEqual(["1"]);
    });

    it("a closed instance refuses every call with CLOSED; closing twice is fine", async () => {
      const state = await one();
      await state.close();
      await state.close();
      const calls: Array<() => Promise<unknown>> = [
        () => state.history.countUser("alice"),
        () => state.outbox().size(),
        () => state.jobs("facts").size(),
        () => state.meta.get("k"),
      ];
      for (const call of calls) {
        const error = await call().then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(isEngramError(error, "CLOSED")).toBe(true);
      }
    });
  });
}
