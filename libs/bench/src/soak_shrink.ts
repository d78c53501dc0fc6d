/**
 * Soak, what a long-running process gives back: one `Memory` kept open while
 *   1. grow: `--users` users each add `--memories` memories (addMany) and search (their recall
 *      index holds every vector);
 *   2. forget: each forgets down to `--keep` memories (`forget({ maxRecords })`) and searches again
 *      (the index stays warm, kept current by the deletes);
 *   3. visit: `--visitors` new users each add one memory and search at once (the search reads the
 *      write still queued, `writes: "background"`), and never come back;
 * then flush. After each phase the GC runs and the heap, the array buffers (vectors live there),
 * RSS, and the structures that hold them are sampled: the recall indexes' vector buffers (bytes
 * and live rows) and the pending overlay's kept vectors (read from the Memory's parts).
 *
 * `--baseline <ref>` first runs the same workload, in the same process, on the library source of
 * git `ref` (baseline_source.ts), then on this tree: each run's figures are taken from its own
 * start, so what the first left behind does not count against the second. Both use this tree's
 * StaticEmbeddings instance (the extracted source has no model file).
 *
 *   node --expose-gc --import tsx src/soak_shrink.ts [--users 10] [--memories 2000] [--keep 50] [--visitors 2000] [--baseline <ref>] [--label x]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { formatMachine, machineInfo } from "./machine.js";
import { treeAgainstBaseline, writeSoakReport } from "./soak_runs.js";

interface ShrinkMemory {
  addMany(items: Array<{ content: string }>, options: { userId: string }): Promise<unknown>;
  add(input: string, options: { userId: string }): Promise<unknown>;
  search(query: string, options: { userId: string; limit?: number }): Promise<unknown[]>;
  forget(options: { userId: string; maxRecords: number; dedupeThreshold: number }): Promise<{ evicted: number }>;
  flush(): Promise<unknown>;
  close(): Promise<void>;
}

interface EngramModule {
  Memory: new (options: { [key: string]: unknown }) => ShrinkMemory;
  StaticEmbeddings: new () => { close?(): Promise<void> };
  startChromaServer(options: { path: string }): Promise<{ url: string; stop(): Promise<void> }>;
}

/** The parts read for the structure counts: private fields, present in the baseline too. */
interface Parts {
  recall: { users: Map<string, { index: { vectors: { size: number; bytes: number } } }> };
  overlay?: { kept: number };
}

const opts = new Command()
  .option("--users <n>", "users who grow then forget", "10")
  .option("--memories <n>", "memories each of them adds", "2000")
  .option("--keep <n>", "memories each keeps after forgetting", "50")
  .option("--visitors <n>", "users who add once, search once, and leave", "2000")
  .option("--baseline <ref>", "git ref whose library source runs first, in the same process")
  .option("--label <name>", "name of this run in the report", "now")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ users: string; memories: string; keep: string; visitors: string; baseline?: string; label: string; out: string }>();

const TOPICS = ["garden", "bike", "sister", "recipe", "trip", "book", "job", "dog", "piano", "flat"];

interface Sample {
  phase: string;
  heapUsedMiB: number;
  arrayBuffersMiB: number;
  rssMiB: number;
  /** Users whose recall index is kept. */
  indexes: number;
  /** Live vectors in those indexes. */
  vectorRows: number;
  /** Bytes of their vector buffers. */
  vectorBufferMiB: number;
  /** Vectors of queued writes the pending overlay keeps. */
  overlayVectors: number;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function sample(memory: ShrinkMemory, phase: string, gc: () => void): Promise<Sample> {
  await memory.flush();
  gc();
  gc();
  const usage = process.memoryUsage();
  const parts = await (memory as unknown as { lifecycle: { setup(): Promise<Parts> } }).lifecycle.setup();
  let vectorRows = 0;
  let vectorBytes = 0;
  for (const { index } of parts.recall.users.values()) {
    vectorRows += index.vectors.size;
    vectorBytes += index.vectors.bytes;
  }
  const row: Sample = {
    phase,
    heapUsedMiB: mib(usage.heapUsed),
    arrayBuffersMiB: mib(usage.arrayBuffers),
    rssMiB: mib(usage.rss),
    indexes: parts.recall.users.size,
    vectorRows,
    vectorBufferMiB: mib(vectorBytes),
    overlayVectors: parts.overlay?.kept ?? 0,
  };
  console.log(`  ${phase}: heap ${row.heapUsedMiB} MiB, array buffers ${row.arrayBuffersMiB} MiB, rss ${row.rssMiB} MiB; ${row.indexes} indexes, ${row.vectorRows} vectors in ${row.vectorBufferMiB} MiB of buffers, overlay ${row.overlayVectors} vectors`);
  return row;
}

/** The three phases on one library source; samples after each. */
async function run(engram: EngramModule, embeddings: unknown, name: string, gc: () => void): Promise<Sample[]> {
  console.log(`${name}:`);
  const dir = await mkdtemp(join(tmpdir(), "engram-soak-shrink-"));
  const server = await engram.startChromaServer({ path: join(dir, "chroma") });
  const memory = new engram.Memory({ dataDir: join(dir, "data"), chroma: { url: server.url }, embeddings, writes: "background" });
  const users = Array.from({ length: Number(opts.users) }, (_, u) => `grower-${u}`);
  const samples: Sample[] = [];
  try {
    samples.push(await sample(memory, "start", gc));
    for (const userId of users) {
      for (let from = 0; from < Number(opts.memories); from += 500) {
        const count = Math.min(500, Number(opts.memories) - from);
        const items = Array.from({ length: count }, (_, i) => ({ content: `Note ${from + i} of ${userId}: my ${TOPICS[(from + i) % 10]} and my ${TOPICS[(from + i * 3) % 10]} on day ${from + i}.` }));
        await memory.addMany(items, { userId });
      }
      await memory.flush();
      await memory.search("what about my garden?", { userId, limit: 5 });
    }
    samples.push(await sample(memory, "grown", gc));
    for (const userId of users) {
      await memory.forget({ userId, maxRecords: Number(opts.keep), dedupeThreshold: 1 });
      await memory.search("what about my garden?", { userId, limit: 5 });
    }
    samples.push(await sample(memory, "forgotten", gc));
    for (let v = 0; v < Number(opts.visitors); v += 1) {
      const userId = `visitor-${v}`;
      await memory.add(`I talked about my ${TOPICS[v % 10]} on visit ${v}.`, { userId });
      await memory.search(`what about my ${TOPICS[v % 10]}?`, { userId, limit: 5 });
    }
    samples.push(await sample(memory, "visited", gc));
  } finally {
    await memory.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return samples;
}

async function main(): Promise<void> {
  const runs = await treeAgainstBaseline<EngramModule, Sample[]>(opts.baseline, run);
  const report = { label: opts.label, machine: machineInfo(), users: Number(opts.users), memories: Number(opts.memories), keep: Number(opts.keep), visitors: Number(opts.visitors), runs };
  console.log(formatMachine(report.machine));
  await writeSoakReport(opts.out, `soak-shrink-${opts.label}`, report);
}

await main();
