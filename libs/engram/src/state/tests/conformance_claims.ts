import { expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import type { StateBackend } from "../types.js";
import { LAPSE_MS, LEASE_MS, type Payload, type StateKit } from "./conformance_kit.js";

/**
 * Claims with leases, on the outbox and on job queues: another live owner skipped, lapsed claims
 * taken over, two drainers at once.
 */
export function claimCases({ store }: StateKit): void {
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
}
