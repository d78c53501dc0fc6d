/**
 * What a record costs Chroma's local server on disk, for the store layout (docs/store-layout.md):
 * - the bytes its process tree writes per stored record (`write_bytes` of /proc/<pid>/io), for
 *   one-record-at-a-time adds into one collection as it grows (does a persist of the vector index
 *   rewrite the whole index, so that one shared collection's writes grow with everyone's records?);
 * - the folder's size on disk per collection holding one record (Chroma 1.0.0 preallocates each
 *   collection's index).
 * Collections get the settings Engram gives its own (NEW_COLLECTION_SETTINGS), random unit
 * vectors of 512 dimensions, a `userId` key per row. Prints each figure and writes
 * results/chroma_write_bytes.json and .md.
 *
 *   node --import tsx src/chroma_write_bytes.ts [--sizes 1000,10000,40000] [--adds 100] [--collections 10]
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChromaClient, type Collection } from "chromadb";
import { Command } from "commander";
import { startChromaServer } from "../../engram/src/store/chroma_server.js";
import { NEW_COLLECTION_SETTINGS } from "../../engram/src/store/chroma_collections.js";
import { sumOverTree } from "./process_cpu.js";
import { median } from "./stats.js";

const opts = new Command()
  .option("--sizes <list>", "collection sizes at which single adds are measured", "1000,10000,40000")
  .option("--adds <n>", "single-record adds measured at each size", "100")
  .option("--collections <n>", "one-record collections for the disk-per-collection figure", "10")
  .parse()
  .opts<{ sizes: string; adds: string; collections: string }>();

const DIMS = 512;
const RESULTS = fileURLToPath(new URL("../results/", import.meta.url));

/** Bytes written by a process and its descendants (threads share the process' counter). */
const treeWriteBytes = (pid: number): number =>
  sumOverTree(pid, (id) => Number(/write_bytes: (\d+)/.exec(readFileSync(`/proc/${id}/io`, "utf8"))?.[1] ?? 0));

function unitVector(): number[] {
  const v = Array.from({ length: DIMS }, () => Math.random() - 0.5);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

const diskBytes = (path: string): number => Number(execFileSync("du", ["-sB1", path]).toString().split("\t")[0]);

async function add(collection: Collection, from: number, count: number, userId: (i: number) => string): Promise<void> {
  const ids = Array.from({ length: count }, (_, i) => `r${from + i}`);
  await collection.add({ ids, embeddings: ids.map(unitVector), metadatas: ids.map((_, i) => ({ userId: userId(from + i) })) });
}

const dir = await mkdtemp(join(tmpdir(), "engram-bench-writes-"));
const server = await startChromaServer({ path: join(dir, "chroma") });
const pid = server.pid;
if (pid === undefined) throw new Error("the server's process id is unknown: its writes cannot be read");
const client = new ChromaClient({ host: server.host, port: server.port });
const load = [loadavg()[0]!];
try {
  const growth: Array<{ size: number; kibPerRecord: number; addMsP50: number }> = [];
  const collection = await client.createCollection({ name: "bench-shared", metadata: { "hnsw:space": "cosine", ...NEW_COLLECTION_SETTINGS }, embeddingFunction: null });
  let stored = 0;
  const adds = Number(opts.adds);
  for (const size of opts.sizes.split(",").map(Number)) {
    // Filled in bulk (500 a call, 100 users), then `adds` one-record adds of one user timed.
    while (stored < size - adds) {
      const count = Math.min(500, size - adds - stored);
      await add(collection, stored, count, (i) => `user-${i % 100}`);
      stored += count;
    }
    await collection.count();
    const before = treeWriteBytes(pid);
    const times: number[] = [];
    for (let i = 0; i < adds; i += 1) {
      const start = performance.now();
      await add(collection, stored, 1, () => "user-1");
      times.push(performance.now() - start);
      stored += 1;
    }
    await collection.count();
    const row = { size: stored, kibPerRecord: (treeWriteBytes(pid) - before) / adds / 1024, addMsP50: median(times) };
    growth.push(row);
    load.push(loadavg()[0]!);
    console.log(`one collection of ${row.size} records: ${row.kibPerRecord.toFixed(1)} KiB written per one-record add, add p50 ${row.addMsP50.toFixed(1)} ms`);
  }

  const folder = join(dir, "chroma");
  const empty = diskBytes(folder);
  const collections = Number(opts.collections);
  for (let c = 0; c < collections; c += 1) {
    const one = await client.createCollection({ name: `bench-user-${c}`, metadata: { "hnsw:space": "cosine", ...NEW_COLLECTION_SETTINGS }, embeddingFunction: null });
    await add(one, 0, 1, () => `user-${c}`);
    await one.count();
  }
  const perCollectionMiB = (diskBytes(folder) - empty) / collections / 2 ** 20;
  console.log(`${collections} collections of one record: ${perCollectionMiB.toFixed(1)} MiB on disk each`);

  const result = { run: new Date().toISOString(), server: "Chroma 1.0.0 local (npm chromadb 3.5.0)", dims: DIMS, settings: NEW_COLLECTION_SETTINGS, load, growth, perCollectionMiB };
  await writeFile(join(RESULTS, "chroma_write_bytes.json"), `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    `# Chroma's disk writes per record (${result.run}, 1-minute load ${load.map((l) => l.toFixed(1)).join(" / ")})`,
    "",
    "| records in the collection | KiB written per one-record add | add p50 (ms) |",
    "|---:|---:|---:|",
    ...growth.map((g) => `| ${g.size} | ${g.kibPerRecord.toFixed(1)} | ${g.addMsP50.toFixed(1)} |`),
    "",
    `A collection holding one record: ${perCollectionMiB.toFixed(1)} MiB on disk (${collections} measured).`,
    "",
  ].join("\n");
  await writeFile(join(RESULTS, "chroma_write_bytes.md"), md);
  console.log(`wrote ${join(RESULTS, "chroma_write_bytes.md")}`);
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
