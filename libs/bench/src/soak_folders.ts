/**
 * Soak, data folders opened and closed: `--folders` Memories on the embedded default (a local
 * Chroma server per data folder, each on a port of its own), one after the other, each adding,
 * searching and closing, in one process. After each, the GC runs and the heap and the number of
 * origins (host:port) in Node's process-wide fetch pool (undici's global Agent, which never drops
 * one) are sampled.
 *
 * `--baseline <ref>` first runs the same on the library source of git `ref` (baseline_source.ts),
 * then on this tree, in the same process: the pool's origins are counted from each run's start.
 *
 *   node --expose-gc --import tsx src/soak_folders.ts [--folders 30] [--baseline <ref>] [--label x]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { formatMachine, machineInfo } from "./machine.js";
import { treeAgainstBaseline, writeSoakReport } from "./soak_runs.js";

interface FolderMemory {
  add(input: string, options: { userId: string }): Promise<unknown>;
  search(query: string, options: { userId: string }): Promise<unknown[]>;
  close(): Promise<void>;
}

interface EngramModule {
  Memory: new (options: { [key: string]: unknown }) => FolderMemory;
  StaticEmbeddings: new () => { close?(): Promise<void> };
}

const opts = new Command()
  .option("--folders <n>", "data folders opened and closed, one after the other", "30")
  .option("--baseline <ref>", "git ref whose library source runs first, in the same process")
  .option("--label <name>", "name of this run in the report", "now")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ folders: string; baseline?: string; label: string; out: string }>();

interface Sample {
  folders: number;
  heapUsedMiB: number;
  pooledOrigins: number;
}

/** Origins in Node's process-wide fetch pool (a private map of undici's Agent; -1 when not found). */
function pooledOrigins(): number {
  void globalThis.Request; // loads Node's fetch, which installs the pool
  const pool = (globalThis as Record<symbol, object | undefined>)[Symbol.for("undici.globalDispatcher.1")];
  const clients = pool && Object.getOwnPropertySymbols(pool).find((symbol) => symbol.description === "clients");
  const map = pool && clients ? (pool as Record<symbol, Map<string, unknown> | undefined>)[clients] : undefined;
  return map ? map.size : -1;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 100) / 100;

async function run(engram: EngramModule, embeddings: unknown, name: string, gc: () => void): Promise<Sample[]> {
  console.log(`${name}:`);
  const dir = await mkdtemp(join(tmpdir(), "engram-soak-folders-"));
  const samples: Sample[] = [];
  const take = (folders: number): void => {
    gc();
    gc();
    const row = { folders, heapUsedMiB: mib(process.memoryUsage().heapUsed), pooledOrigins: pooledOrigins() };
    samples.push(row);
    console.log(`  ${folders} folders: heap ${row.heapUsedMiB} MiB, ${row.pooledOrigins} origins in the fetch pool`);
  };
  try {
    take(0);
    for (let i = 0; i < Number(opts.folders); i += 1) {
      const memory = new engram.Memory({ dataDir: join(dir, `folder-${i}`), embeddings });
      try {
        await memory.add("I keep bees on the roof.", { userId: "alice" });
        await memory.search("bees", { userId: "alice" });
      } finally {
        await memory.close();
      }
      take(i + 1);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return samples;
}

async function main(): Promise<void> {
  const runs = await treeAgainstBaseline<EngramModule, Sample[]>(opts.baseline, run);
  const report = { label: opts.label, machine: machineInfo(), folders: Number(opts.folders), runs };
  console.log(formatMachine(report.machine));
  await writeSoakReport(opts.out, `soak-folders-${opts.label}`, report);
}

await main();
