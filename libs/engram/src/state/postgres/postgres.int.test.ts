import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { isEngramError } from "../../core/errors.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import { LATEST_VERSION, MIGRATIONS, PostgresState, type PostgresStateOptions } from "./index.js";

let postgres: TestPostgres | undefined;
let database = "";
let admin: pg.Client;
let schemas = 0;
const opened: PostgresState[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  database = await freshDatabase(postgres.url);
  admin = new pg.Client({ connectionString: database });
  await admin.connect();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((state) => state.close()));
});

afterAll(async () => {
  await admin?.end();
  await postgres?.stop();
});

const freshSchema = (): string => `s_${(schemas += 1)}`;

function open(options: Partial<PostgresStateOptions> & { schema: string }): PostgresState {
  const state = new PostgresState({ postgres: database, ...options });
  opened.push(state);
  return state;
}

describe("PostgresState (a real PostgreSQL)", () => {
  it("replicas racing setup() migrate the schema once; later starts find nothing to do", async () => {
    const schema = freshSchema();
    await Promise.all(Array.from({ length: 5 }, () => open({ schema }).setup()));
    const { rows } = await admin.query<{ version: number; n: string }>(`SELECT version, count(*) AS n FROM "${schema}".engram_migrations GROUP BY version ORDER BY version`);
    expect(rows.map((row) => [row.version, Number(row.n)])).toEqual(MIGRATIONS.map((m) => [m.version, 1]));
    expect(Math.max(...rows.map((row) => row.version))).toBe(LATEST_VERSION);
    const tables = await admin.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", [schema]);
    expect(tables.rows.map((row) => row.table_name)).toEqual([
      "checkpointer_filed",
      "checkpointer_queue",
      "engram_migrations",
      "history",
      "jobs",
      "meta",
      "model_usage",
      "outbox",
      "state_imports",
      "store_revisions",
      "write_leases",
    ]);
    const again = open({ schema });
    await again.setup();
    await again.setup();
    const after = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".engram_migrations`);
    expect(Number(after.rows[0]!.n)).toBe(MIGRATIONS.length);
  });

  it("a schema of an older release is brought up to date by the next setup(), keeping its rows", async () => {
    const schema = freshSchema();
    const old = open({ schema });
    await old.history.record([{ memoryId: "m1", userId: "alice", event: "ADD", oldContent: null, newContent: "kept", reason: "add" }]);
    // Undo the steps after version 2, as a schema made by that release would be, with a write it queued.
    await admin.query(`ALTER TABLE "${schema}".outbox DROP COLUMN history`);
    await admin.query(`DROP TABLE "${schema}".store_revisions`);
    await admin.query(`DROP SEQUENCE "${schema}".store_revision_seq`);
    await admin.query(`DELETE FROM "${schema}".engram_migrations WHERE version > 2`);
    await admin.query(`INSERT INTO "${schema}".outbox (user_id, key, payload, created_at) VALUES ('alice', 'upsert:m1', '{"v":1}', 1)`);
    await old.close();
    const upgraded = open({ schema });
    await upgraded.setup();
    const { rows } = await admin.query<{ version: number }>(`SELECT version FROM "${schema}".engram_migrations ORDER BY version`);
    expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect((await admin.query(`SELECT to_regclass('"${schema}".store_revisions') AS t`)).rows[0].t).not.toBeNull();
    expect((await upgraded.revisions.bump("alice")).before).toBeNull();
    expect((await upgraded.history.forMemory("m1", "alice")).map((e) => e.newContent)).toEqual(["kept"]);
    // The old release's queued write has no entries kept (its payload's own is recorded by the writer);
    // a write replacing it carries nothing of it over.
    const outbox = upgraded.outbox<{ v: number }>();
    expect((await outbox.pending()).map((w) => [w.payload.v, w.history])).toEqual([[1, null]]);
    await outbox.enqueue([{ userId: "alice", key: "upsert:m1", payload: { v: 2 }, history: { memoryId: "m1", userId: "alice", event: "UPDATE", oldContent: "kept", newContent: "new", reason: "update", at: 2 } }]);
    expect((await outbox.pending()).map((w) => [w.payload.v, w.history?.map((e) => e.newContent)])).toEqual([[2, ["new"]]]);
  });

  it("two schemas in one database are two separate states", async () => {
    const a = open({ schema: freshSchema() });
    const b = open({ schema: freshSchema() });
    await a.outbox<number>().enqueue([{ userId: "alice", key: "k", payload: 1 }]);
    expect(await a.outbox().size()).toBe(1);
    expect(await b.outbox().size()).toBe(0);
  });

  it("refuses bad options when constructed, before any connection", () => {
    const bad: unknown[] = [
      { postgres: "mysql://localhost/db" },
      { postgres: 42 },
      { postgres: database, schema: "engram; DROP TABLE x" },
      { postgres: database, schema: "1abc" },
      { postgres: database, schema: "pg_engram" },
      { postgres: database, writeLeaseMs: 0 },
      { postgres: database, pollMs: 1.5 },
      { postgres: database, clock: "now" },
    ];
    for (const options of bad) {
      let caught: unknown;
      try {
        new PostgresState(options as PostgresStateOptions);
      } catch (error) {
        caught = error;
      }
      expect(isEngramError(caught, "INVALID_OPTIONS")).toBe(true);
    }
  });

  it("a server that cannot be reached is STATE_UNAVAILABLE, and a later setup() tries again", async () => {
    const url = new URL(database);
    url.port = "1";
    const state = open({ schema: freshSchema(), postgres: { connectionString: url.toString(), connectionTimeoutMillis: 2_000 } });
    const first = await state.setup().then(() => undefined, (error: unknown) => error);
    expect(isEngramError(first, "STATE_UNAVAILABLE")).toBe(true);
    const second = await state.history.countUser("alice").then(() => undefined, (error: unknown) => error);
    expect(isEngramError(second, "STATE_UNAVAILABLE")).toBe(true);
  });

  it("a held write lease outlives writeLeaseMs (refreshed); a dead holder's lapses after it", async () => {
    const schema = freshSchema();
    // Refreshed every third of its life: 2 s leaves the refresh timer 1.3 s of slack on a loaded
    // machine before a live holder's lease could lapse (600 ms left 400 ms).
    const holder = open({ schema, writeLeaseMs: 2_000 });
    const eraser = open({ schema, writeLeaseMs: 2_000 });
    await holder.outbox<number>().enqueue([{ userId: "alice", key: "upsert:x", payload: 1 }]);
    const lease = await holder.leases.take("alice", ["upsert:x"]);
    expect(lease).toBeDefined();
    let settled = false;
    const waiting = eraser.leases.settled("alice").then(() => (settled = true));
    // Three lifetimes of the lease: a live holder keeps it.
    await sleep(6_000);
    expect(settled).toBe(false);
    // The holder "dies": closing stops the refresh without releasing, as a crash would.
    await holder.close();
    await waiting;
    expect(settled).toBe(true);
  });

  it("a replica that dies inside exclusive() loses its lock with its session; another replica then enters", async () => {
    const schema = freshSchema();
    const [replicaA, replicaB] = [open({ schema }), open({ schema })];
    let releaseA!: () => void;
    const holdA = new Promise<void>((resolve) => (releaseA = resolve));
    let entered!: () => void;
    const aInside = new Promise<void>((resolve) => (entered = resolve));
    const a = replicaA.leases.exclusive("alice", "facts", async () => {
      entered();
      await holdA;
    });
    await Promise.race([aInside, a]);
    let bRan = false;
    const b = replicaB.leases.exclusive("alice", "facts", async () => {
      bRan = true;
    });
    await sleep(300);
    expect(bRan).toBe(false);
    // Kill A's lock session, as a crashed machine's connection dies.
    const killed = await admin.query<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()",
    );
    expect(killed.rows.length).toBeGreaterThan(0);
    await b;
    expect(bRan).toBe(true);
    releaseA();
    await a;
  });

  it("a newer write of a key keeps the live claim of the replica applying the older one", async () => {
    const schema = freshSchema();
    const [replicaA, replicaB] = [open({ schema }), open({ schema })];
    const [old] = await replicaA.outbox<number>().enqueue([{ userId: "alice", key: "upsert:x", payload: 1 }]);
    expect((await replicaA.outbox<number>().claim("A", 60_000)).map((w) => w.seq)).toEqual([old]);
    const [newer] = await replicaB.outbox<number>().enqueue([{ userId: "alice", key: "upsert:x", payload: 2 }]);
    // B must not apply v2 while A's v1 may still land after it.
    expect(await replicaB.outbox<number>().claim("B", 60_000)).toEqual([]);
    expect(await replicaA.outbox().complete([old!])).toEqual([]);
    expect((await replicaA.outbox<number>().claim("A", 60_000)).map((w) => [w.seq, w.payload])).toEqual([[newer, 2]]);
  });

  it("close() ends every connection of the instance", async () => {
    const schema = freshSchema();
    const state = open({ schema, postgres: { connectionString: database, application_name: `engram_${schema}` } });
    await state.outbox<number>().enqueue([{ userId: "alice", key: "k", payload: 1 }]);
    await state.leases.exclusive("alice", "facts", async () => {
      const { rows } = await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [`engram_${schema}`]);
      expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(2);
    });
    await state.close();
    // A closed connection leaves pg_stat_activity when its backend exits: soon, but on a loaded
    // machine not within a fixed 50 polls (about 1 s, as this was).
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { rows } = await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [`engram_${schema}`]);
      if (Number(rows[0]!.n) === 0) return;
      await sleep(20);
    }
    throw new Error("connections of a closed PostgresState are still open");
  });
});
