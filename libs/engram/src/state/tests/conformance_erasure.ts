import { expect, it } from "@jest/globals";
import { isEngramError } from "../../core/errors.js";
import { entry, type Payload, type StateKit } from "./conformance_kit.js";

/** Erasing a user from every part, and a closed instance's refusals. */
export function erasureCases({ store, one }: StateKit): void {
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
    // Her threads are nobody's now (ERASED_OWNER): a run of hers that claimed one before the
    // erasure files nothing into it after; a new thread of hers files from scratch.
    expect(await replicaA.filings().take("t1", "alice", [{ key: "1" }])).toEqual([]);
    expect((await replicaA.filings().take("t2", "alice", [{ key: "1" }])).map((x) => x.key)).toEqual(["1"]);
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
}
