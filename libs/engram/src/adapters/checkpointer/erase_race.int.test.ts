import { describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { raceSuite, startScriptPeer, type KillablePeer } from "../../tests/peers.js";
import type { ErasePeerOptions } from "./erase_peer.js";

/*
 * What an erasure removed never comes back, when the erasure runs in one process and the user's
 * run (or its background filing) in another, on one shared state and saver (a data folder's
 * SQLite, or PostgreSQL for replicas):
 * - `deleteThread` while the owner's run is storing a checkpoint: the thread is never left with a
 *   checkpoint and no owner, which another user's first run would claim and read;
 * - `deleteAll` (or `deleteThread`) while a filing that read the user's (thread's) messages before
 *   it is writing them: they do not reach Memory after the erasure;
 * - `deleteAll` while the user's run is storing a checkpoint: its messages are not filed after.
 * The peers (erase_peer.ts) hold the step in flight at a gate while the other process acts.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const PEER = fileURLToPath(new URL("./erase_peer.ts", import.meta.url));
const suite = raceSuite();

/** Two processes on one data folder (or one PostgreSQL state) and one saver file, both warm. */
async function pair(name: string, state: "sqlite" | "postgres", writes?: "sync"): Promise<[KillablePeer, KillablePeer]> {
  const options: ErasePeerOptions = {
    ...(writes ? { writes } : {}),
    chromaUrl: suite.chroma.server.url,
    dataDir: join(suite.chroma.dir, name),
    saverFile: join(suite.chroma.dir, `${name}-checkpoints.sqlite`),
  };
  if (state === "postgres") options.postgres = await suite.database(`engram_${name.replace(/-/g, "_")}`);
  const a = suite.keep(startScriptPeer(PEER, options));
  const b = suite.keep(startScriptPeer(PEER, options));
  // One after the other: the first opens (creates) the data folder's database. Each opens its
  // filing log now, while nothing waits in it: a log opened later would have the peer file what
  // the other one recorded, as a second worker on the log.
  for (const [i, peer] of [a, b].entries()) {
    await peer.call("memories", "warm");
    expect(await peer.call("put", `warm-${i}`, `warm-${i}`, "hello")).toBe("stored");
    await peer.call("flush");
  }
  return [a, b];
}

/**
 * Lets the other process's erasure run to its end, or to where it waits for the step held in
 * flight (a bounded wait shapes the interleaving only; nothing is asserted on time).
 */
async function whileErasing(erasure: Promise<unknown>): Promise<void> {
  await Promise.race([erasure.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3_000))]);
}

describe.each(["sqlite", "postgres"] as const)("erasures across processes (%s state)", (state) => {
  it("deleteThread during the owner's put: no checkpoint is left in an unowned thread for another user to read", async () => {
    const [alice, other] = await pair(`thread-race-${state}`, state);
    expect(await alice.call("put", "alice", "t1", "hello")).toBe("stored");
    // The input checkpoint of alice's next run (LangGraph's step -1: the new message is in
    // `__start__`, not yet in `messages`) passes its owner check, then the thread is deleted.
    await alice.call("holdPut", "alice", "t1", "alice's secret plan", "__start__");
    const deleting = other.call("deleteThread", "t1");
    await whileErasing(deleting);
    expect(await alice.call("finishPut")).toBe("stored");
    await deleting;
    await alice.call("flush");
    // Bob's first run on the id reads the thread first: nothing of alice's may be there.
    const seen = await other.call<unknown>("read", "bob", "t1");
    expect(JSON.stringify(seen)).not.toContain("secret");
    expect(await other.call("memories", "alice")).toEqual([]);
  });

  it("deleteAll during a filing that read the user's messages: they are not written after the erasure", async () => {
    // Writes "sync": the filing embeds its messages before it queues them (on the add's path).
    const [alice, other] = await pair(`filing-race-${state}`, state, "sync");
    await alice.call("holdEmbed");
    expect(await alice.call("put", "alice", "t1", "alice's diary entry")).toBe("stored");
    // The filing read the messages from the log and is embedding them.
    await alice.call("waitEmbed");
    const erasing = other.call("deleteAll", "alice");
    await whileErasing(erasing);
    await alice.call("releaseEmbed");
    await erasing;
    await alice.call("flush");
    expect(await other.call("memories", "alice")).toEqual([]);
    expect(await alice.call("memories", "alice")).toEqual([]);
  });

  it("deleteThread during a filing of the thread that read its messages: they are not written after the delete", async () => {
    const [alice, other] = await pair(`thread-filing-race-${state}`, state, "sync");
    await alice.call("holdEmbed");
    expect(await alice.call("put", "alice", "t1", "alice's note to self")).toBe("stored");
    await alice.call("waitEmbed");
    const deleting = other.call("deleteThread", "t1");
    await whileErasing(deleting);
    await alice.call("releaseEmbed");
    await deleting;
    await alice.call("flush");
    expect(await other.call("memories", "alice")).toEqual([]);
  });

  it("deleteAll during the user's put: the put's messages are not filed after the erasure", async () => {
    const [alice, other] = await pair(`put-race-${state}`, state);
    expect(await alice.call("put", "alice", "t1", "hello")).toBe("stored");
    await alice.call("flush");
    await alice.call("holdPut", "alice", "t1", "alice's late message", "messages");
    await other.call("deleteAll", "alice");
    await alice.call("finishPut");
    await alice.call("flush");
    expect(await other.call("memories", "alice")).toEqual([]);
    // The thread stays closed to other users (docs/checkpointer.md: erased users' threads).
    expect(await other.call("read", "bob", "t1")).toBe("INVALID_SCOPE");
  });
});
