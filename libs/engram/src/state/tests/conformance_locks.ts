import { expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import type { Payload, StateKit } from "./conformance_kit.js";

/** Write leases and exclusive sections across instances. */
export function lockCases({ store }: StateKit): void {
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
}
