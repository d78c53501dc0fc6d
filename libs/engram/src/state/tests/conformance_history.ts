import { expect, it } from "@jest/globals";
import { entry, type StateKit } from "./conformance_kit.js";

/**
 * Setup racing, and the history log: order, per-user scope, counts, deletes, each user's latest
 * time.
 */
export function historyCases({ store, one }: StateKit): void {
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

  it("history: forMemories reads many memories at once, each as forMemory reads it (oldest first, the user's only)", async () => {
    const state = await one();
    await state.history.record([entry("alice", "m1", "late", 9), entry("alice", "m2", "only", 3), entry("alice", "m1", "early", 1), entry("bob", "m2", "bob's", 2), entry("alice", "m1", "tie", 9)]);
    const ids = ["m1", "m2", "m3", "it's \"m4\"", ...Array.from({ length: 3_000 }, (_, i) => `x${i}`)];
    const many = await state.history.forMemories(ids, "alice");
    expect([...many.keys()].sort()).toEqual(["m1", "m2"]);
    for (const id of ids) expect(many.get(id) ?? []).toEqual(await state.history.forMemory(id, "alice"));
    expect(many.get("m1")!.map((e) => e.newContent)).toEqual(["early", "late", "tie"]);
    expect([...(await state.history.forMemories(["m1", "m2"], "bob"))].map(([id, entries]) => [id, entries.map((e) => e.newContent)])).toEqual([["m2", ["bob's"]]]);
    expect((await state.history.forMemories([], "alice")).size).toBe(0);
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
}
