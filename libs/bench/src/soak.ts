/**
 * Soak: one `Memory` in one process, many calls (add / search / get / getAll / update / delete,
 * mixed) over many users, as a server runs for weeks. Every `--calls / --samples` calls the writes
 * are flushed, the GC runs, and the process's heap, array buffers (the recall indexes' vectors live
 * there, outside the heap), RSS, open file descriptors and active handles are sampled: in a process without leaks they plateau once the caches are full (the embedding
 * cache, each user's recall index up to `recallIndex.maxUsers`, the store's collection handles).
 * A bench, not a test: it prints figures and writes them to a file.
 *
 *   node --expose-gc --import tsx src/soak.ts [--calls 10000] [--users 2000] [--samples 10] [--writes sync|background] [--label x]
 *
 * Reported: each sample, the median latency per operation, and the heap growth per 1,000 calls
 * over the first and the second half of the run (a leak keeps the second like the first; a
 * plateau brings it near zero). It measures the source of this tree (libs/engram/src).
 */
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import { machineInfo, formatMachine } from "./machine.js";
import { median } from "./stats.js";
import { Prng } from "./data.js";
import { writeSoakReport } from "./soak_runs.js";

interface Record {
  id: string;
  content: string;
}

interface SoakMemory {
  add(input: string, options: { userId: string }): Promise<{ results: Array<{ id: string }> }>;
  search(query: string, options: { userId: string; limit?: number }): Promise<Record[]>;
  get(id: string, options: { userId: string }): Promise<Record | null>;
  getAll(options: { userId: string; limit?: number }): Promise<Record[]>;
  update(id: string, change: string, options: { userId: string }): Promise<Record>;
  delete(id: string, options: { userId: string }): Promise<void>;
  flush(): Promise<unknown>;
  close(): Promise<void>;
}

interface EngramModule {
  Memory: new (options: { [key: string]: unknown }) => SoakMemory;
  StaticEmbeddings: new () => unknown;
  startChromaServer(options: { path: string }): Promise<{ url: string; stop(): Promise<void> }>;
}

const opts = new Command()
  .option("--calls <n>", "calls in all", "10000")
  .option("--users <n>", "distinct users (each call picks one at random)", "2000")
  .option("--samples <n>", "samples of memory over the run", "10")
  .option("--writes <mode>", "the Memory's writes: sync | background", "background")
  .option("--seed <n>", "random seed", "20261207")
  .option("--label <name>", "name of this run in the report", "now")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ calls: string; users: string; samples: string; writes: string; seed: string; label: string; out: string }>();

type Op = "add" | "search" | "get" | "getAll" | "update" | "delete";
/** Out of ten calls: three adds, three searches, one of each other. */
const MIX: readonly Op[] = ["add", "search", "add", "search", "get", "getAll", "add", "search", "update", "delete"];
const TOPICS = ["garden", "bike", "sister", "recipe", "trip", "book", "job", "dog", "piano", "flat"];

interface Sample {
  calls: number;
  heapUsedMiB: number;
  arrayBuffersMiB: number;
  rssMiB: number;
  fds: number;
  handles: number;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function sample(memory: SoakMemory, gc: () => void, calls: number): Promise<Sample> {
  await memory.flush();
  gc();
  gc();
  const usage = process.memoryUsage();
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  return { calls, heapUsedMiB: mib(usage.heapUsed), arrayBuffersMiB: mib(usage.arrayBuffers), rssMiB: mib(usage.rss), fds: readdirSync("/proc/self/fd").length, handles };
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  const calls = Number(opts.calls);
  const users = Number(opts.users);
  const every = Math.max(1, Math.floor(calls / Number(opts.samples)));
  const engram = (await import(fileURLToPath(new URL("../../engram/src/index.ts", import.meta.url)))) as EngramModule;
  const dir = await mkdtemp(join(tmpdir(), "engram-soak-"));
  const server = await engram.startChromaServer({ path: join(dir, "chroma") });
  const memory = new engram.Memory({ dataDir: join(dir, "data"), chroma: { url: server.url }, embeddings: new engram.StaticEmbeddings(), writes: opts.writes });
  // Seeded (bench/src/data.ts's mulberry32), so runs are comparable.
  const prng = new Prng(Number(opts.seed));
  const next = (): number => prng.next();
  const ids = new Map<string, string[]>();
  const latencies = new Map<Op, number[]>(MIX.map((op) => [op, []]));
  const samples: Sample[] = [];
  try {
    samples.push(await sample(memory, gc, 0));
    for (let i = 0; i < calls; i += 1) {
      const userId = `user-${Math.floor(next() * users)}`;
      const known = ids.get(userId) ?? [];
      const topic = TOPICS[Math.floor(next() * TOPICS.length)]!;
      let op = MIX[i % MIX.length]!;
      // A user with nothing stored yet adds instead of reading or changing a memory by id.
      if ((op === "get" || op === "update" || op === "delete") && known.length === 0) op = "add";
      const id = known[Math.floor(next() * known.length)]!;
      const started = performance.now();
      if (op === "add") {
        const { results } = await memory.add(`I talked about my ${topic} on call ${i}.`, { userId });
        known.push(...results.map((result) => result.id));
        ids.set(userId, known);
      } else if (op === "search") await memory.search(`what about my ${topic}?`, { userId, limit: 5 });
      else if (op === "get") await memory.get(id, { userId });
      else if (op === "getAll") await memory.getAll({ userId, limit: 20 });
      else if (op === "update") await memory.update(id, `My ${topic} changed on call ${i}.`, { userId });
      else {
        await memory.delete(id, { userId });
        known.splice(known.indexOf(id), 1);
      }
      latencies.get(op)!.push(performance.now() - started);
      if ((i + 1) % every === 0) {
        const row = await sample(memory, gc, i + 1);
        samples.push(row);
        console.log(`${row.calls} calls: heap ${row.heapUsedMiB} MiB, array buffers ${row.arrayBuffersMiB} MiB, rss ${row.rssMiB} MiB, fds ${row.fds}, handles ${row.handles}`);
      }
    }
  } finally {
    await memory.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const half = Math.floor((samples.length - 1) / 2);
  const perThousand = (a: Sample, b: Sample): number => Math.round(((b.heapUsedMiB - a.heapUsedMiB) / ((b.calls - a.calls) / 1000)) * 100) / 100;
  const report = {
    label: opts.label,
    machine: machineInfo(),
    calls,
    users,
    writes: opts.writes,
    distinctUsersSeen: ids.size,
    medianMs: Object.fromEntries([...latencies].map(([op, values]) => [op, Math.round(median(values) * 100) / 100])),
    heapMiBPer1000Calls: { firstHalf: perThousand(samples[0]!, samples[half]!), secondHalf: perThousand(samples[half]!, samples[samples.length - 1]!) },
    samples,
  };
  console.log(formatMachine(report.machine));
  console.log("median ms per call:", JSON.stringify(report.medianMs));
  console.log("heap MiB per 1,000 calls:", JSON.stringify(report.heapMiBPer1000Calls));
  await writeSoakReport(opts.out, `soak-${opts.label}`, report);
}

await main();
