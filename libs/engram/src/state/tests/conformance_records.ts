import { expect, it } from "@jest/globals";
import type { Payload, StateKit } from "./conformance_kit.js";

/** The small records: meta values, usage totals, filings. */
export function recordCases({ store, one }: StateKit): void {
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
}
