import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { isEngramError } from "../../core/errors.js";
import { StaticEmbeddings } from "../../embeddings/static.js";
import { Memory } from "../../memory/memory.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import { postgresOutage, type PostgresOutage } from "../../tests/postgres_outage.js";

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

/** How a call ended, or "waiting" if it had not after `ms` (a call that waits for ever, as before). */
async function outcome(call: Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("waiting"), ms)));
  const ended = call.then(
    () => "done",
    (error: unknown) => (isEngramError(error) ? error.code : `not an EngramError: ${String(error)}`),
  );
  try {
    return await Promise.race([ended, waited]);
  } finally {
    clearTimeout(timer);
  }
}

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
});
