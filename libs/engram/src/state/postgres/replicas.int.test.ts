import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import type { ReplicaChildConfig } from "../../tests/state_replica_child.js";
import { PostgresState } from "./index.js";

const CHILD = fileURLToPath(new URL("../../tests/state_replica_child.ts", import.meta.url));
const SLOW = 600_000;

let postgres: TestPostgres | undefined;
let database = "";
let admin: pg.Client;

beforeAll(async () => {
  postgres = await startPostgres();
  database = await freshDatabase(postgres.url);
  admin = new pg.Client({ connectionString: database });
  await admin.connect();
  await admin.query("CREATE TABLE applied (id BIGSERIAL PRIMARY KEY, seq BIGINT NOT NULL, user_id TEXT NOT NULL, owner TEXT NOT NULL)");
  await admin.query("CREATE TABLE sections (id BIGSERIAL PRIMARY KEY, user_id TEXT NOT NULL, owner TEXT NOT NULL, started TIMESTAMPTZ NOT NULL, ended TIMESTAMPTZ)");
});

afterAll(async () => {
  await admin?.end();
  await postgres?.stop();
});

interface ChildRun {
  lines: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** A replica process running TypeScript from src; SIGKILLed when `killWhen` says so. */
function replica(
  config: ReplicaChildConfig,
  killWhen: (line: string, lines: string[]) => boolean = () => false,
  onStart?: (kill: () => void) => void,
): Promise<ChildRun> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  onStart?.(() => child.kill("SIGKILL"));
  const run: ChildRun = { lines: [], code: null, signal: null, stderr: "" };
  child.stderr!.on("data", (chunk: Buffer) => void (run.stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    run.lines.push(line);
    if (killWhen(line, run.lines)) child.kill("SIGKILL");
  });
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      run.code = code;
      run.signal = signal;
      resolve(run);
    });
  });
}

describe("PostgresState shared by replica processes (real child processes, one kill -9)", () => {
  it("a replica killed holding a claim, then two racing: every write applied, only the dead one's claim twice, each user's in order", async () => {
    const schema = "drain";
    const state = new PostgresState({ postgres: database, schema });
    const users = ["u0", "u1", "u2", "u3", "u4", "u5"];
    let seqs: number[];
    try {
      seqs = await state.outbox<{ n: number }>().enqueue(Array.from({ length: 90 }, (_, n) => ({ userId: users[n % users.length]!, key: `k${n}`, payload: { n } })));
    } finally {
      await state.close();
    }
    // Only the dead replica's lease is short (so B and C take its claim over soon). The live ones
    // hold 60 s leases: with 1.5 s, a live replica stalled that long between its claim and its
    // complete (a loaded machine) lost its claim, and a write applied twice by two live replicas
    // failed the check below on timing, not on a bug.
    const config = (owner: string): ReplicaChildConfig => ({ url: database, schema, owner, mode: "drain", leaseMs: owner === "A" ? 1_500 : 60_000 });
    // A claims first and dies holding its claim; B and C then race each other and must take over.
    const killed = await replica(config("A"), (line) => line.startsWith("claimed "));
    const [b, c] = await Promise.all([replica(config("B")), replica(config("C"))]);
    expect(killed.signal).toBe("SIGKILL");
    expect([b.code, c.code, b.stderr + c.stderr]).toEqual([0, 0, ""]);
    const heldByDead = killed.lines.find((line) => line.startsWith("claimed "))!.split(" ").slice(1).map(Number);
    expect(heldByDead.length).toBeGreaterThan(0);

    const { rows } = await admin.query<{ seq: string; user_id: string; owner: string }>("SELECT seq, user_id, owner FROM applied ORDER BY id");
    const applied = rows.map((row) => ({ seq: Number(row.seq), userId: row.user_id, owner: row.owner }));
    const times = new Map<number, number>();
    for (const { seq } of applied) times.set(seq, (times.get(seq) ?? 0) + 1);
    // Every write applied; twice only where the dead replica may have applied it before dying.
    expect([...times.keys()].sort((x, y) => x - y)).toEqual(seqs);
    const twice = [...times.entries()].filter(([, n]) => n > 1).map(([seq]) => seq);
    for (const seq of twice) expect(heldByDead).toContain(seq);
    // The dead replica's claim was taken over by the live ones after its lease.
    for (const seq of heldByDead) expect(applied.some((a) => a.seq === seq && a.owner !== "A")).toBe(true);
    // Each user's writes were applied in queue order, across the three processes.
    for (const user of users) {
      const order = applied.filter((a) => a.userId === user).map((a) => a.seq);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    const check = new PostgresState({ postgres: database, schema });
    try {
      expect(await check.outbox().size()).toBe(0);
    } finally {
      await check.close();
    }
  }, SLOW);

  it("exclusive sections of one user never overlap across processes, and a replica killed inside one frees it for the others", async () => {
    const schema = "exclusive";
    const config = (owner: string, hangAt?: number): ReplicaChildConfig => ({
      url: database,
      schema,
      owner,
      mode: "exclusive",
      users: ["alice", "bob"],
      rounds: 4,
      ...(hangAt === undefined ? {} : { hangAt }),
    });
    // A hangs inside its third section (alice's) and is killed once B and C are up and wanting it:
    // if A's lock outlived A, they would never finish.
    let killA!: () => void;
    let aHangs!: () => void;
    const hanging = new Promise<void>((resolve) => (aHangs = resolve));
    const killedRun = replica(config("A", 2), (_line, lines) => {
      if (lines.filter((l) => l.startsWith("inside ")).length === 3) aHangs();
      return false;
    }, (kill) => (killA = kill));
    await hanging;
    let ready = 0;
    const other = (owner: string) =>
      replica(config(owner), (line) => {
        if (line === "ready" && (ready += 1) === 2) setTimeout(() => killA(), 300);
        return false;
      });
    const [killed, b, c] = await Promise.all([killedRun, other("B"), other("C")]);
    expect(killed.signal).toBe("SIGKILL");
    expect([b.code, c.code, b.stderr + c.stderr]).toEqual([0, 0, ""]);
    const { rows } = await admin.query<{ user_id: string; owner: string; started: Date; ended: Date | null }>(
      "SELECT user_id, owner, started, ended FROM sections ORDER BY started",
    );
    expect(rows.filter((row) => row.owner !== "A" && row.ended !== null)).toHaveLength(2 * 2 * 4);
    expect(rows.filter((row) => row.owner === "A").map((row) => [row.user_id, row.ended])).toEqual([
      ["alice", expect.any(Date)],
      ["bob", expect.any(Date)],
      ["alice", null],
    ]);
    for (const user of ["alice", "bob"]) {
      const sections = rows.filter((row) => row.user_id === user);
      for (let i = 1; i < sections.length; i += 1) {
        const before = sections[i - 1]!;
        // A section of the killed replica never ended: the next one only started after it began.
        if (before.ended !== null) expect(sections[i]!.started.getTime()).toBeGreaterThanOrEqual(before.ended.getTime());
      }
    }
  }, SLOW);
});
