import { describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PeerError, raceSuite, startScriptPeer } from "../../tests/peers.js";
import type { OwnerPeerOptions } from "./owner_peer.js";

/*
 * A thread belongs to the user of its first run (thread_owner.int.test.ts). Two users' first runs
 * on one new thread id at the same moment, in two processes (two replicas, or two workers on one
 * data folder), must not both pass: one of them is the first, and the other is refused with
 * INVALID_SCOPE before its checkpoint is stored or anything of it is filed. The peers' saver is
 * slow to store (as one over the network is), so both runs are in flight together.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const PEER = fileURLToPath(new URL("./owner_peer.ts", import.meta.url));
const THREADS = 8;
const suite = raceSuite();

/** Each thread's outcome for alice and bob: "stored", or the error code. */
async function race(options: Omit<OwnerPeerOptions, "chromaUrl" | "slowMs">): Promise<void> {
  const alice = suite.keep(startScriptPeer(PEER, { ...options, chromaUrl: suite.chroma.server.url, slowMs: 150 } satisfies OwnerPeerOptions));
  const bob = suite.keep(startScriptPeer(PEER, { ...options, chromaUrl: suite.chroma.server.url, slowMs: 150 } satisfies OwnerPeerOptions));
  // Both processes are up (and their state open) before the race.
  await Promise.all([alice.call("put", "alice", "warm-alice", "hello"), bob.call("put", "bob", "warm-bob", "hello")]);
  const outcome = (call: Promise<unknown>) => call.then(String, (error: unknown) => (error instanceof PeerError ? error.code ?? error.message : String(error)));
  const results: Array<[string, string]> = [];
  for (let i = 0; i < THREADS; i++) {
    const thread = `new-thread-${i}`;
    results.push(
      (await Promise.all([
        outcome(alice.call("put", "alice", thread, `alice's secret ${i}`)),
        outcome(bob.call("put", "bob", thread, `bob's secret ${i}`)),
      ])) as [string, string],
    );
  }
  expectOneWinner(results);
  // A refused user stays refused; the first keeps the thread.
  for (const [i, [a]] of results.entries()) {
    const [winner, loser] = a === "stored" ? [alice, bob] : [bob, alice];
    const [winnerId, loserId] = a === "stored" ? ["alice", "bob"] : ["bob", "alice"];
    expect(await outcome(winner.call("put", winnerId, `new-thread-${i}`, "again"))).toBe("stored");
    expect(await outcome(loser.call("put", loserId, `new-thread-${i}`, "again"))).toBe("INVALID_SCOPE");
  }
}

function expectOneWinner(results: Array<[string, string]>): void {
  for (const [i, pair] of results.entries()) {
    expect({ thread: i, outcome: [...pair].sort() }).toEqual({ thread: i, outcome: ["INVALID_SCOPE", "stored"] });
  }
}

describe("EngramCheckpointer: two users' first runs on one new thread, in two processes at once", () => {
  it("SQLite bookkeeping shared by two processes: the first claim wins, the other run is refused", async () => {
    const dataDir = join(suite.chroma.dir, "sqlite-race");
    await race({ dataDir, databasePath: join(suite.chroma.dir, "sqlite-race-checkpoints.sqlite") });
  });

  it("PostgreSQL state shared by two replicas: the first claim wins, the other run is refused", async () => {
    const url = await suite.database("engram_owner_race");
    await race({ dataDir: join(suite.chroma.dir, "pg-race"), databasePath: join(suite.chroma.dir, "pg-unused.sqlite"), postgres: url });
  });
});
