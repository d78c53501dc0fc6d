import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import { outcome, postgresOutage, type PostgresOutage } from "../../tests/postgres_outage.js";
import { runReportingChild } from "../../tests/reporting_child.js";
import { createPostgresSaver } from "./postgres_saver.js";

/*
 * PostgreSQL going down and coming back (a restart, a failover) under a replica whose LangGraph
 * checkpoints are in PostgresSaver (createPostgresSaver). The shutdown ends every session, the
 * saver pool's idle ones too, and each emits "error" on a pool nobody listened to: the replica's
 * process died of an uncaught "terminating connection due to administrator command". And a call
 * while the database was down failed with the driver's error (ECONNREFUSED), not an EngramError.
 * A real child process, a real PostgreSQL and Chroma; the graph's node is a plain function.
 */

jest.setTimeout(600_000); // a hang, not a slow machine: PostgreSQL stops and starts twice

const CHILD = fileURLToPath(new URL("./postgres_state_outage_child.ts", import.meta.url));

let chroma: TestChroma | undefined;
let postgres: TestPostgres | undefined;
beforeAll(async () => {
  [chroma, postgres] = await Promise.all([startTestChroma(), startPostgres()]);
});
let frozen: PostgresOutage | undefined;
afterAll(async () => {
  await frozen?.thaw().catch(() => undefined);
  await chroma?.stop();
  await postgres?.stop();
});

interface Report {
  downTurn: { engram: boolean; code?: string; message?: string };
  downGet: { engram: boolean; code?: string; message?: string };
  downPut: { engram: boolean; code?: string; message?: string };
  texts: string[];
  filed: string[];
}

describe("a PostgreSQL checkpointer while its database goes down and comes back", () => {
  it("keeps the process alive, fails calls made meanwhile with STORE_UNAVAILABLE or STATE_UNAVAILABLE, and the thread's next turn works", async () => {
    const url = await freshDatabase(postgres!.url, "engram_ckpt_outage");
    const outcome = await runReportingChild<Report>(CHILD, { url, chromaUrl: chroma!.server.url, dataDir: join(chroma!.dir, "replica") });
    expect({ code: outcome.code, err: outcome.err }).toEqual({ code: 0, err: "" });
    const report = outcome.report!;
    for (const failed of [report.downTurn, report.downGet, report.downPut]) {
      expect(failed.engram).toBe(true);
      expect(["STORE_UNAVAILABLE", "STATE_UNAVAILABLE"]).toContain(failed.code);
    }
    // The saver's own calls say the store: the checkpoints are what could not be reached.
    expect(report.downGet.code).toBe("STORE_UNAVAILABLE");
    expect(report.downPut.code).toBe("STORE_UNAVAILABLE");
    // The turn made while down left nothing; the thread goes on from its first turn.
    expect(report.texts).toEqual(["I was born in Lisbon.", "Reply 1", "I keep bees.", "Reply 3"]);
    expect(report.filed).toEqual(["I keep bees.", "I was born in Lisbon.", "Reply 1", "Reply 3"]);
  });
});

describe("a PostgreSQL checkpointer whose database stops answering (frozen: a paused machine, a host gone in a failover)", () => {
  it("fails getTuple and put with STORE_UNAVAILABLE instead of waiting for ever, and end() returns", async () => {
    const url = await freshDatabase(postgres!.url, "engram_ckpt_frozen");
    frozen = await postgresOutage(url);
    const run = { configurable: { thread_id: "t1", checkpoint_ns: "" } };
    const checkpoint = (n: number) => ({
      v: 4,
      id: `1f0b0000-0000-6000-8000-${String(n).padStart(12, "0")}`,
      ts: new Date().toISOString(),
      channel_values: { messages: [`turn ${n}`] },
      channel_versions: { messages: n },
      versions_seen: {},
    });
    const saver = await createPostgresSaver(url, { schema: "frozen_checkpoints" });
    await saver.put(run, checkpoint(1), { source: "input", step: -1, parents: {} }, { messages: 1 });
    await frozen.freeze();
    // Five minutes is far past the deadlines (60 s a statement, 30 s a connection): "waiting" is a call held for ever.
    const [getting, putting] = await Promise.all([
      outcome(saver.getTuple(run), 300_000),
      outcome(saver.put(run, checkpoint(2), { source: "loop", step: 0, parents: {} }, { messages: 2 }), 300_000),
    ]);
    expect({ getting, putting }).toEqual({ getting: "STORE_UNAVAILABLE", putting: "STORE_UNAVAILABLE" });
    expect(await outcome(saver.end(), 300_000)).toBe("done");
    await frozen.thaw();
    // A put that failed so either never reached the server or landed whole, once.
    const next = await createPostgresSaver(url, { schema: "frozen_checkpoints" });
    try {
      expect([checkpoint(1).id, checkpoint(2).id]).toContain((await next.getTuple(run))?.checkpoint.id);
      let count = 0;
      for await (const _ of next.list(run)) count += 1;
      expect([1, 2]).toContain(count);
    } finally {
      await next.end();
    }
  });
});
