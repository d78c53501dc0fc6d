/**
 * Replicas against one process: how an app's turns and searches scale when one, two and three
 * replica processes share one Chroma server and one PostgreSQL state, against the single-process
 * default (SQLite state in a data folder, the embedded Chroma server) in the same run. Every
 * configuration runs the same turn in real child processes: each replica serves `--users`
 * concurrent users, each user running turns back to back for `--seconds` (a turn is a `search` of
 * the user's message, limit 5, then an `add` of the message and the reply, background writes);
 * the time includes the final `flush()`, so every turn counted reached the store. StaticEmbeddings
 * (no TF.js), so the engines, not the model, are measured.
 *
 *   nice -n 10 node --import tsx src/replicas.ts [--seconds 15] [--users 20] [--rounds 2] [--out bench-results]
 *
 * On 2 shared cores, replicas compete with Chroma and PostgreSQL for the same CPUs: absolute
 * figures are low and more replicas cannot add cores. Read the ratios to the SQLite row.
 */
import { spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { StaticEmbeddings } from "../../engram/src/embeddings/static.js";
import { Memory } from "../../engram/src/memory/memory.js";
import type { MemoryOptions } from "../../engram/src/memory/options.js";
import { startTestChroma, tempDir } from "../../engram/src/tests/chroma.js";
import { freshDatabase, startPostgres } from "../../engram/src/tests/postgres.js";
import { median, percentile } from "./stats.js";

const BENCH_ROOT = fileURLToPath(new URL("../", import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/** What one replica process is told to do. */
interface ChildConfig {
  replica: number;
  users: number;
  seconds: number;
  dataDir: string;
  chromaUrl?: string;
  pgUrl?: string;
}

/** What one replica process reports. */
interface ChildResult {
  turns: number;
  searchMs: number[];
  addMs: number[];
  elapsedMs: number;
}

const TOPICS = ["tea", "chess", "violin", "garden", "river", "coffee", "bees", "Porto", "trains", "cats", "novels", "jazz", "hiking", "pasta", "Lisbon"];
const VERBS = ["likes", "talked about", "is planning", "remembered", "asked about", "bought", "misses", "wants to learn"];

function sentence(n: number, user: string): string {
  const pick = (items: string[], k: number) => items[(n * 7 + k * 13 + user.length) % items.length]!;
  return `${user} ${pick(VERBS, 1)} ${pick(TOPICS, 2)} and ${pick(TOPICS, 5)} on day ${n % 30}, turn ${n}.`;
}

async function child(config: ChildConfig): Promise<void> {
  const options: MemoryOptions = { dataDir: config.dataDir, embeddings: new StaticEmbeddings(), writes: "background" };
  if (config.chromaUrl !== undefined) options.chroma = { url: config.chromaUrl };
  if (config.pgUrl !== undefined) options.state = { postgres: config.pgUrl };
  const memory = new Memory(options);
  // Setup (server start, migrations, the model's table) is not part of the figures.
  await memory.getAll({ userId: `r${config.replica}-warmup` });
  const searchMs: number[] = [];
  const addMs: number[] = [];
  let turns = 0;
  const start = performance.now();
  const until = start + config.seconds * 1_000;
  await Promise.all(
    Array.from({ length: config.users }, async (_, u) => {
      const userId = `r${config.replica}-u${u}`;
      for (let n = 0; performance.now() < until; n += 1) {
        const message = sentence(n, userId);
        const began = performance.now();
        await memory.search(message, { userId, limit: 5 });
        searchMs.push(performance.now() - began);
        const adding = performance.now();
        await memory.add(`${message} Reply: noted (${n}).`, { userId });
        addMs.push(performance.now() - adding);
        turns += 1;
      }
    }),
  );
  await memory.flush();
  const result: ChildResult = { turns, searchMs, addMs, elapsedMs: performance.now() - start };
  await memory.close();
  process.stdout.write(JSON.stringify(result) + "\n");
}

function runChild(config: ChildConfig): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", SELF, "--child", JSON.stringify(config)], { stdio: ["ignore", "pipe", "pipe"] });
    let result: ChildResult | undefined;
    let stderr = "";
    proc.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    createInterface({ input: proc.stdout }).on("line", (line) => {
      if (line.startsWith("{")) result = JSON.parse(line) as ChildResult;
    });
    proc.on("exit", (code) => (code === 0 && result ? resolve(result) : reject(new Error(`replica ${config.replica} exited ${code}: ${stderr}`))));
  });
}

interface Row {
  setup: string;
  replicas: number;
  users: number;
  turns: number;
  seconds: number;
  turnsPerSecond: number;
  searchP50: number;
  searchP95: number;
  addP50: number;
  addP95: number;
}

/** One configuration: its name, how many replica processes, and whether they share PostgreSQL. */
interface Setup {
  name: string;
  replicas: number;
  shared: boolean;
}

const SETUPS: Setup[] = [
  { name: "one process, SQLite state, embedded Chroma (default)", replicas: 1, shared: false },
  { name: "1 replica, Chroma server + PostgreSQL", replicas: 1, shared: true },
  { name: "2 replicas, Chroma server + PostgreSQL", replicas: 2, shared: true },
  { name: "3 replicas, Chroma server + PostgreSQL", replicas: 3, shared: true },
];

function row(setup: Setup, rounds: ChildResult[][], users: number): Row {
  const results = rounds.flat();
  const turns = results.reduce((sum, r) => sum + r.turns, 0);
  const searchMs = results.flatMap((r) => r.searchMs);
  const addMs = results.flatMap((r) => r.addMs);
  // Replicas run side by side: a round's time is its slowest replica's.
  const seconds = rounds.reduce((sum, round) => sum + Math.max(...round.map((r) => r.elapsedMs)) / 1_000, 0);
  return {
    setup: setup.name,
    replicas: setup.replicas,
    users: users * setup.replicas,
    turns,
    seconds,
    turnsPerSecond: turns / seconds,
    searchP50: median(searchMs),
    searchP95: percentile(searchMs, 95),
    addP50: median(addMs),
    addP95: percentile(addMs, 95),
  };
}

async function main(): Promise<void> {
  const o = new Command()
    .option("--seconds <n>", "how long each configuration runs in each round", "15")
    .option("--users <n>", "concurrent users per replica", "20")
    .option("--rounds <n>", "rounds; the order of the configurations alternates between rounds", "2")
    .option("--out <dir>", "folder for the result JSON", join(BENCH_ROOT, "bench-results"))
    .parse(process.argv)
    .opts<{ seconds: string; users: string; rounds: string; out: string }>();
  const seconds = Number(o.seconds);
  const users = Number(o.users);
  const roundCount = Number(o.rounds);
  const folder = await tempDir("engram-bench-replicas-");
  const [chroma, postgres] = await Promise.all([startTestChroma(), startPostgres()]);
  const samples = new Map<Setup, ChildResult[][]>(SETUPS.map((setup) => [setup, []]));
  let run = 0;
  try {
    for (let round = 0; round < roundCount; round += 1) {
      for (const setup of round % 2 === 0 ? SETUPS : [...SETUPS].reverse()) {
        run += 1;
        // A fresh database, data folders and users for every run: each starts empty.
        const pgUrl = setup.shared ? await freshDatabase(postgres.url, "engram_bench") : undefined;
        const results = await Promise.all(
          Array.from({ length: setup.replicas }, (_, r) =>
            runChild({
              replica: run * 10 + r,
              users,
              seconds,
              dataDir: join(folder, `run-${run}-${r}`),
              ...(setup.shared ? { chromaUrl: chroma.server.url, pgUrl } : {}),
            }),
          ),
        );
        samples.get(setup)!.push(results);
      }
    }
  } finally {
    await chroma.stop();
    await postgres.stop();
    await rm(folder, { recursive: true, force: true });
  }
  const rows = SETUPS.map((setup) => row(setup, samples.get(setup)!, users));
  const base = rows[0]!;
  console.log(
    `replicas: ${users} concurrent users per replica, ${roundCount} rounds of ${seconds} s per configuration, order alternating (turn = search + add; time includes the final flush)`,
  );
  console.log("setup                                                 users  turns  turns/s  vs default  search p50    p95  add p50    p95 (ms)");
  for (const r of rows) {
    console.log(
      `${r.setup.padEnd(53)} ${String(r.users).padStart(5)} ${String(r.turns).padStart(6)} ${r.turnsPerSecond.toFixed(1).padStart(8)} ${(r.turnsPerSecond / base.turnsPerSecond).toFixed(2).padStart(10)}x ${r.searchP50.toFixed(1).padStart(10)} ${r.searchP95.toFixed(1).padStart(6)} ${r.addP50.toFixed(1).padStart(8)} ${r.addP95.toFixed(1).padStart(6)}`,
    );
  }
  await mkdir(o.out, { recursive: true });
  const cores = (await import("node:os")).cpus().length;
  await writeFile(join(o.out, "replicas.json"), JSON.stringify({ seconds, rounds: roundCount, usersPerReplica: users, cores, rows }, null, 2) + "\n");
}

const at = process.argv.indexOf("--child");
if (at >= 0) await child(JSON.parse(process.argv[at + 1]!) as ChildConfig);
else await main();
