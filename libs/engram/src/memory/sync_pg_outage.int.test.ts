import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import pg from "pg";
import { isEngramError } from "../core/errors.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../tests/postgres.js";
import { Memory } from "./memory.js";
import { DRAIN_LOCK } from "./writer.js";

/*
 * A write with `writes: "sync"` is queued in the outbox (durable, in PostgreSQL), then drained
 * under the user's drain lock. PostgreSQL restarting while the drain waits for that lock (another
 * replica holds it: here a plain session of the test) failed the call with STATE_UNAVAILABLE,
 * though the write was queued: once PostgreSQL was back, the next drain stored the memory the
 * caller had been told was not written. A queued write the drain could not reach now answers
 * `pending: true`, as a store outage does, and lands once, with one history entry, without a new
 * replica. A real PostgreSQL (restarted) and a real Chroma.
 */

jest.setTimeout(600_000); // a hang, not a slow machine: PostgreSQL restarts under load slowly

let chroma: TestChroma | undefined;
let postgres: TestPostgres | undefined;
beforeAll(async () => {
  [chroma, postgres] = await Promise.all([startTestChroma(), startPostgres()]);
});
afterAll(async () => {
  await chroma?.stop();
  await postgres?.stop();
});

/** Resolves once a session other than `self` waits for an advisory lock. */
async function someoneWaitsForLock(url: string, self: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid <> $1", [self]);
      if (rows.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await client.end();
  }
}

describe("a sync write whose drain meets PostgreSQL restarting", () => {
  it("is acknowledged as pending (it is queued), then stored once with one history entry when PostgreSQL is back", async () => {
    const url = await freshDatabase(postgres!.url, "engram_sync_outage");
    const memory = new Memory({
      dataDir: join(chroma!.dir, "replica"),
      chroma: { url: chroma!.server.url },
      state: { postgres: url },
      embeddings: new StaticEmbeddings(),
      writes: "sync",
    });
    try {
      const user = { userId: "ines" };
      const first = await memory.add("I grew up in Coimbra.", user);
      expect(first.pending).toBe(false);

      // Another replica's drain of the user holds the drain lock (state/postgres/leases.ts).
      const holder = new pg.Client({ connectionString: url });
      holder.on("error", () => {});
      await holder.connect();
      const holderPid = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      await holder.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [`engram:exclusive:${JSON.stringify(["engram", user.userId, DRAIN_LOCK])}`]);
      const adding = memory.add("I moved to Porto last spring.", user).then(
        (result) => ({ pending: result.pending, id: result.results[0]!.id }),
        (error: unknown) => ({ error: isEngramError(error) ? `${error.code}: ${error.message}` : String(error) }),
      );
      await someoneWaitsForLock(url, holderPid);
      await postgres!.restart();
      await holder.end().catch(() => undefined);

      const added = await adding;
      expect(added).toEqual({ pending: true, id: expect.any(String) });
      const { id } = added as { id: string };
      // PostgreSQL is back: the same replica, no restart of it, drains and reads the write once.
      await memory.flush();
      const contents = (await memory.getAll(user)).map((record) => record.content).sort();
      expect(contents).toEqual(["I grew up in Coimbra.", "I moved to Porto last spring."]);
      expect((await memory.history(id, user)).map((entry) => [entry.event, entry.newContent])).toEqual([["ADD", "I moved to Porto last spring."]]);
      // And the replica takes writes again at once.
      expect((await memory.add("I keep a cat.", user)).pending).toBe(false);
    } finally {
      await memory.close();
    }
  });
});
