import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import pg from "pg";
import { isEngramError } from "../../core/errors.js";
import { StaticEmbeddings } from "../../embeddings/static.js";
import { Memory } from "../../memory/memory.js";
import { DRAIN_LOCK } from "../../memory/writer.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import { outcome, postgresOutage, type PostgresOutage } from "../../tests/postgres_outage.js";

/*
 * A PostgreSQL server that stops answering without closing anything (its processes frozen with
 * SIGSTOP: a paused machine, a failover that leaves clients talking to a host that is gone, a
 * network cut without a reset). The pool had no deadline: every call of a replica waited for ever
 * (`add`, `get`), and so did `close()`, whose pool waited for the server to close its connections.
 * Calls now fail with STATE_UNAVAILABLE (pg's query and connection deadlines Engram sets by
 * default), `close()` returns, and the replica works again once the server answers, with no
 * restart of it. A real PostgreSQL and Chroma.
 */

jest.setTimeout(900_000); // the default deadlines run out once per call, on a loaded machine

let chroma: TestChroma | undefined;
let postgres: TestPostgres | undefined;
let outage: PostgresOutage | undefined;
beforeAll(async () => {
  [chroma, postgres] = await Promise.all([startTestChroma(), startPostgres()]);
});
afterAll(async () => {
  await outage?.thaw().catch(() => undefined);
  await chroma?.stop();
  await postgres?.stop();
});

describe("a replica whose PostgreSQL stops answering", () => {
  it("fails calls with STATE_UNAVAILABLE instead of waiting for ever, works again once it answers, and closes while it does not", async () => {
    const url = await freshDatabase(postgres!.url, "engram_frozen");
    outage = await postgresOutage(url);
    const open = () =>
      new Memory({ dataDir: join(chroma!.dir, "replica"), chroma: { url: chroma!.server.url }, state: { postgres: url }, embeddings: new StaticEmbeddings(), writes: "sync" });
    const memory = open();
    const user = { userId: "noor" };
    const id = (await memory.add("I grew up in Tunis.", user)).results[0]!.id;

    await outage.freeze();
    // Five minutes is far past the deadlines (60 s a statement, 30 s a connection): "waiting" is a call held for ever.
    const [adding, getting] = await Promise.all([outcome(memory.add("I moved to Lyon.", user), 300_000), outcome(memory.get(id, user), 300_000)]);
    expect({ adding, getting }).toEqual({ adding: "STATE_UNAVAILABLE", getting: "STATE_UNAVAILABLE" });
    await outage.thaw();

    // The same replica, once the server answers: the failed add left nothing, the next one lands.
    expect((await memory.get(id, user))?.content).toBe("I grew up in Tunis.");
    expect((await memory.add("I moved to Nice.", user)).pending).toBe(false);
    expect((await memory.getAll(user)).map((record) => record.content).sort()).toEqual(["I grew up in Tunis.", "I moved to Nice."]);

    await outage.freeze();
    expect(await outcome(memory.close(), 300_000)).toBe("done");
    await outage.thaw();
    // What it wrote is there for the next replica.
    const next = open();
    try {
      expect((await next.getAll(user)).map((record) => record.content).sort()).toEqual(["I grew up in Tunis.", "I moved to Nice."]);
    } finally {
      await next.close();
    }
  });

  it("ends a drain that waits for a user's lock when the server stops answering: the write stays queued, close() returns", async () => {
    const url = await freshDatabase(postgres!.url, "engram_frozen_lock");
    outage = await postgresOutage(url);
    const open = () =>
      new Memory({ dataDir: join(chroma!.dir, "replica-lock"), chroma: { url: chroma!.server.url }, state: { postgres: url }, embeddings: new StaticEmbeddings(), writes: "sync" });
    const memory = open();
    const user = { userId: "omar" };
    await memory.add("I grew up in Rabat.", user);
    // Another replica's drain of the user holds its drain lock (state/postgres/leases.ts).
    const holder = new pg.Client({ connectionString: url });
    holder.on("error", () => {});
    await holder.connect();
    const holderPid = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    await holder.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [`engram:exclusive:${JSON.stringify(["engram", user.userId, DRAIN_LOCK])}`]);
    const adding = memory.add("I moved to Fez.", user).then(
      (result) => (result.pending ? "pending" : "stored"),
      (error: unknown) => (isEngramError(error) ? error.code : String(error)),
    );
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    while ((await watcher.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid <> $1", [holderPid])).rows.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await watcher.end();

    await outage.freeze();
    expect(await outcome(memory.close(), 300_000)).toBe("done");
    // It was queued before its drain waited: acknowledged as pending, not failed.
    expect(await adding).toBe("pending");
    await outage.thaw();
    await holder.end().catch(() => undefined);

    const next = open();
    try {
      await next.flush();
      const stored = await next.getAll(user);
      expect(stored.map((record) => record.content).sort()).toEqual(["I grew up in Rabat.", "I moved to Fez."]);
      const moved = stored.find((record) => record.content === "I moved to Fez.")!;
      expect((await next.history(moved.id, user)).map((entry) => entry.event)).toEqual(["ADD"]);
    } finally {
      await next.close();
    }
  });
});
