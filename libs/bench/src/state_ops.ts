/**
 * What the shared state costs per operation: SQLite in a data folder (the embedded default)
 * against PostgreSQL (a private local cluster started here, over TCP on 127.0.0.1), same process,
 * same operations, in alternating rounds. Timed per operation:
 *
 * - `write`: one store write's bookkeeping: enqueue, claim, completeApplied with its history entry;
 * - `history`: `history.forMemory` of one memory;
 * - `lease`: take + release of a write lease (what each store write does around it);
 * - `exclusive`: entering and leaving a per-user exclusive section (each fact reconciliation).
 *
 *   node --import tsx src/state_ops.ts [--ops 200] [--rounds 4] [--out bench-results]
 *
 * A local PostgreSQL is the best case of a networked database (no network latency); on 2 shared
 * cores the absolute figures are noisy: read the ratios.
 */
import { mkdir, rm } from "node:fs/promises";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { PostgresState } from "../../engram/src/state/postgres/index.js";
import { SqliteState } from "../../engram/src/state/sqlite/index.js";
import type { StateBackend } from "../../engram/src/state/types.js";
import { tempDir } from "../../engram/src/tests/chroma.js";
import { freshDatabase, startPostgres } from "../../engram/src/tests/postgres.js";
import { median, percentile } from "./stats.js";

const BENCH_ROOT = fileURLToPath(new URL("../", import.meta.url));
const o = new Command()
  .option("--ops <n>", "operations of each kind per backend per round", "200")
  .option("--rounds <n>", "alternating rounds", "4")
  .option("--out <dir>", "folder for the result JSON", join(BENCH_ROOT, "bench-results"))
  .parse(process.argv)
  .opts<{ ops: string; rounds: string; out: string }>();
const ops = Number(o.ops);
const rounds = Number(o.rounds);

type Kind = "write" | "history" | "lease" | "exclusive";
const KINDS: Kind[] = ["write", "history", "lease", "exclusive"];

async function timed(samples: number[], fn: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await fn();
  samples.push(performance.now() - start);
}

/** One round of every kind of operation on one backend; `tag` keeps rounds' rows apart. */
async function round(state: StateBackend, tag: string, samples: Record<Kind, number[]>): Promise<void> {
  const outbox = state.outbox<{ n: number }>();
  for (let i = 0; i < ops; i += 1) {
    const userId = `user-${i % 20}`;
    const memoryId = `${tag}-m${i}`;
    await timed(samples.write, async () => {
      const [seq] = await outbox.enqueue([{ userId, key: `upsert:${memoryId}`, payload: { n: i } }]);
      const claimed = await outbox.claim("bench", 30_000, { userId });
      await outbox.completeApplied(
        claimed.map((write) => ({
          seq: write.seq,
          history: write.seq === seq ? [{ memoryId, userId, event: "ADD" as const, oldContent: null, newContent: `memory ${i}`, reason: "add" }] : [],
        })),
      );
    });
    await timed(samples.history, () => state.history.forMemory(memoryId, userId));
    await outbox.enqueue([{ userId, key: `lease:${memoryId}`, payload: { n: i } }]);
    await timed(samples.lease, async () => {
      const lease = await state.leases.take(userId, [`lease:${memoryId}`]);
      if (lease) await state.leases.release(lease);
    });
    await outbox.complete((await outbox.pending({ userId })).map((write) => write.seq));
    await timed(samples.exclusive, () => state.leases.exclusive(userId, "facts", async () => undefined));
  }
}

async function main(): Promise<void> {
  const postgres = await startPostgres();
  const folder = await tempDir("engram-bench-state-");
  const backends: Record<"sqlite" | "postgres", StateBackend> = {
    sqlite: new SqliteState({ path: folder }),
    postgres: new PostgresState({ postgres: await freshDatabase(postgres.url) }),
  };
  const samples = {
    sqlite: Object.fromEntries(KINDS.map((kind) => [kind, [] as number[]])) as Record<Kind, number[]>,
    postgres: Object.fromEntries(KINDS.map((kind) => [kind, [] as number[]])) as Record<Kind, number[]>,
  };
  try {
    for (const state of Object.values(backends)) await state.setup();
    for (let r = 0; r < rounds; r += 1) {
      for (const name of r % 2 === 0 ? (["sqlite", "postgres"] as const) : (["postgres", "sqlite"] as const)) {
        await round(backends[name], `r${r}`, samples[name]);
      }
    }
  } finally {
    for (const state of Object.values(backends)) await state.close();
    await postgres.stop();
    await rm(folder, { recursive: true, force: true });
  }
  const rows = KINDS.map((kind) => {
    const stats = (name: "sqlite" | "postgres") => ({ p50: median(samples[name][kind]), p95: percentile(samples[name][kind], 95) });
    const sqlite = stats("sqlite");
    const pg = stats("postgres");
    return { kind, sqlite, postgres: pg, ratioP50: pg.p50 / sqlite.p50 };
  });
  console.log(`state operations, ${ops} x ${rounds} rounds per backend (ms; PostgreSQL local, over TCP)`);
  console.log("operation   sqlite p50  p95    postgres p50  p95    pg/sqlite p50");
  for (const row of rows) {
    console.log(
      `${row.kind.padEnd(11)} ${row.sqlite.p50.toFixed(3).padStart(9)} ${row.sqlite.p95.toFixed(3).padStart(6)}    ${row.postgres.p50.toFixed(3).padStart(9)} ${row.postgres.p95.toFixed(3).padStart(6)}    ${row.ratioP50.toFixed(1).padStart(6)}x`,
    );
  }
  await mkdir(o.out, { recursive: true });
  await writeFile(join(o.out, "state_ops.json"), JSON.stringify({ ops, rounds, rows }, null, 2) + "\n");
}

await main();
