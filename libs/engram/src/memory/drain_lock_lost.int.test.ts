import { describe, expect, it, jest } from "@jest/globals";
import pg from "pg";
import { replicaPairSuite } from "../tests/replica_pair.js";
import { waitFor } from "../tests/wait.js";

/*
 * A drain holds the user's drain lock (a PostgreSQL session lock) while its store write is in
 * flight. When PostgreSQL restarts then, the session and the lock end with it, but the write still
 * lands. Replica B, updating the same record meanwhile, took the free lock and applied its newer
 * write first: A's stale write then landed over it, and every replica returned the older content
 * while history said the newer one was the last (two real replica processes; A's write held by a
 * proxy). A drain now first waits for the write leases of the user that another drain still holds.
 */

jest.setTimeout(300_000); // a hang, not a slow machine

const pair = replicaPairSuite();

interface Stored {
  id: string;
  content: string;
}

/**
 * Resolves once a session of the database runs (or last ran) a wait for a user's write leases
 * (state/postgres/leases.ts, `settled`); asks until `watch.on` is false.
 */
async function someoneWaitsForLeases(url: string, watch: { on: boolean }): Promise<"waiting" | "stopped"> {
  while (watch.on) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      const { rows } = await client.query("SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%lapsed AS (DELETE FROM%'");
      if (rows.length > 0) return "waiting";
    } catch {
      // The server is still coming back: ask again.
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return "stopped";
}

describe("PostgreSQL restarting while a drain's store write is in flight", () => {
  it("another replica's later update is not overwritten by that write when it lands", async () => {
    const { world } = pair;
    const postgres = await world.database("engram_lock_lost");
    const a = world.start("a", 0, { postgres, writes: "background" });
    const b = world.start("b", 1, { postgres, writes: "sync" });
    const user = { userId: "kim" };
    const id = (await a.call<{ results: Stored[] }>("add", "I live in Oslo.", user)).results[0]!.id;
    await a.call("flush");
    expect((await b.call<Stored | null>("get", id, user))?.content).toBe("I live in Oslo.");

    const stale = world.proxies[0].hold((request) => request.path.endsWith("/upsert") && request.body.includes(id));
    await a.call("update", id, "I live in Rome.", user);
    await stale.arrived;
    await world.postgres.restart();
    // B's pool may still hand out a connection the restart ended (its error event not yet heard,
    // on a loaded machine): a first call can meet it (STATE_UNAVAILABLE, the typed outage). B
    // answers a read before the update, so the update is what the test is about.
    expect(await waitFor(() => b.call("get", id, user).then(() => true, () => false), 30_000, 100)).toBe(true);

    // B's update drains first: it must not write before A's write in flight has landed.
    const newer = world.proxies[1].hold((request) => request.path.endsWith("/upsert") && request.body.includes(id));
    const updating = b.call("update", id, "I live in Paris.", user);
    const watch = { on: true };
    // An update that fails ends the race too (it waited for ever before: no write, no wait).
    const failed = updating.then(
      () => new Promise<never>(() => undefined),
      (error: unknown) => `update failed: ${String(error)}`,
    );
    const first = await Promise.race([newer.arrived.then(() => "wrote" as const), someoneWaitsForLeases(postgres, watch), failed]);
    watch.on = false;
    expect(first).toBe("waiting");
    stale.release();
    await newer.arrived;
    newer.release();
    await updating;
    await a.call("flush");
    await b.call("flush");

    for (const peer of [a, b]) {
      expect((await peer.call<Stored | null>("get", id, user))?.content).toBe("I live in Paris.");
      const history = await peer.call<Array<{ event: string; newContent: string | null }>>("history", id, user);
      expect(history.map((entry) => entry.newContent)).toEqual(["I live in Oslo.", "I live in Rome.", "I live in Paris."]);
    }
  });
});
