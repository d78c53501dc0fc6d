/**
 * Where the Chroma server's CPU goes when Engram stores records: the same LoCoMo turns stored in
 * fresh collections of one local server (started here, from the library's source), one variant at a
 * time, each varying one thing against the layout Engram writes today:
 * - the vector's dimension (512, 256, 128: the static vectors truncated and renormalized; the HNSW
 *   insert's share), with top-10 agreement between Chroma's query and exact search over the same
 *   vectors (the index's accuracy at that dimension, not the model's);
 * - the metadata: Engram's full row (one row per key in Chroma's metadata table, each indexed),
 *   the keys Engram filters on plus one packed JSON field, or none;
 * - the document (full-text indexed by Chroma) or none;
 * - records per request;
 * - the collection's HNSW settings (collection metadata Chroma 1.0 honours: hnsw:construction_ef,
 *   hnsw:M, hnsw:search_ef, hnsw:sync_threshold; see docs/benchmarks.md, session 9).
 * Each variant prints the server's CPU (its process tree, /proc) per record, this process's CPU per
 * record and the wall-clock rate, with the 1-minute load average, and the top-10 agreement of
 * Chroma's query with exact search over the same vectors (the index's accuracy). Variants run in rotation, `--rounds`
 * times, and the median of each is printed (the machine is shared and noisy).
 *
 *   node --import tsx src/chroma_breakdown.ts [--records 5000] [--rounds 3] [--only a,b]
 */
import { mkdtemp, rm } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { ChromaClient, type Collection, type Metadata } from "chromadb";
import { Command } from "commander";
import { StaticEmbeddings, startChromaServer } from "../../engram/src/index.js";
import { NEW_COLLECTION_SETTINGS } from "../../engram/src/store/chroma_collections.js";
import { upsertRows } from "../../engram/src/store/chroma_upsert.js";
import { loadLocomo } from "./locomo/data.js";
import { treeCpuSeconds } from "./process_cpu.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const opts = new Command()
  .option("--data <path>", "LoCoMo json", resolve(REPO_ROOT, "../shared/bench/locomo/locomo-dev.json"))
  .option("--records <n>", "records per variant", "5000")
  .option("--rounds <n>", "rotations over the variants (median printed)", "3")
  .option("--only <names>", "comma-separated variant names")
  .option("--session9", "only session 9's variants (the HNSW settings, today's row)")
  .option("--server <url>", "measure a server already running there (e.g. another Chroma build) instead of starting one")
  .option("--server-pid <pid>", "that server's process id (its CPU is read from /proc)")
  .option("--wal", "put the server's SQLite file in WAL mode (set between a first start and the measured one)")
  .parse()
  .opts<{ data: string; records: string; rounds: string; only?: string; session9?: boolean; server?: string; serverPid?: string; wal?: boolean }>();

const nodeCpu = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

type MetaLayout = "full" | "packed" | "none" | "full+text" | "packed+text";
interface Variant {
  name: string;
  dims: number;
  meta: MetaLayout;
  /** true: the text; "empty": an empty string (overwrites an older row's text); false: none. */
  document: boolean | "empty";
  perCall: number;
  /** Collection metadata beside `hnsw:space: cosine` (the HNSW settings). @default none */
  settings?: Metadata;
  /** Records stored, when fewer than --records (calls of 2 cost ~100 times more per record). */
  records?: number;
  /**
   * Records stored first, unmeasured, in calls of 1,000 (the next records of the pool): a user who
   * already has that many memories. --records must cover records + prefill. @default 0
   */
  prefill?: number;
}

/** The settings Engram gives new collections. */
const ENGRAM_SETTINGS: Metadata = { ...NEW_COLLECTION_SETTINGS };

const all: Variant[] = [
  { name: "today-512", dims: 512, meta: "full", document: true, perCall: 1000 },
  { name: "dim-256", dims: 256, meta: "full", document: true, perCall: 1000 },
  { name: "dim-128", dims: 128, meta: "full", document: true, perCall: 1000 },
  { name: "dim-8", dims: 8, meta: "full", document: true, perCall: 1000 },
  { name: "packed-meta", dims: 512, meta: "packed", document: true, perCall: 1000 },
  { name: "no-meta", dims: 512, meta: "none", document: true, perCall: 1000 },
  { name: "no-doc", dims: 512, meta: "full", document: false, perCall: 1000 },
  { name: "packed-no-doc", dims: 512, meta: "packed", document: false, perCall: 1000 },
  { name: "text-in-meta", dims: 512, meta: "full+text", document: false, perCall: 1000 },
  { name: "text-in-meta-empty-doc", dims: 512, meta: "full+text", document: "empty", perCall: 1000 },
  { name: "packed-text-empty-doc", dims: 512, meta: "packed+text", document: "empty", perCall: 1000 },
  { name: "bare-8", dims: 8, meta: "none", document: false, perCall: 1000 },
  { name: "call-2", dims: 512, meta: "full", document: true, perCall: 2 },
  { name: "call-2-text-in-meta", dims: 512, meta: "full+text", document: "empty", perCall: 2 },
  { name: "call-250", dims: 512, meta: "full", document: true, perCall: 250 },
  { name: "call-5000", dims: 512, meta: "full", document: true, perCall: 5000 },
  // Session 9: the collection's HNSW settings, on today's row (text in the metadata, empty document).
  { name: "row-now", dims: 512, meta: "full+text", document: "empty", perCall: 1000 },
  { name: "ef-64", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: { "hnsw:construction_ef": 64 } },
  { name: "ef-48", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: { "hnsw:construction_ef": 48 } },
  { name: "ef-32", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: { "hnsw:construction_ef": 32 } },
  { name: "m-12", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: { "hnsw:M": 12 } },
  { name: "m-8", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: { "hnsw:M": 8 } },
  { name: "ef-32-search-200", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: { "hnsw:construction_ef": 32, "hnsw:search_ef": 200 } },
  { name: "ef-48-search-200", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: { "hnsw:construction_ef": 48, "hnsw:search_ef": 200 } },
  { name: "ef-64-search-200", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: { "hnsw:construction_ef": 64, "hnsw:search_ef": 200 } },
  { name: "m-12-ef-64", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: { "hnsw:M": 12, "hnsw:construction_ef": 64 } },
  { name: "engram-new", dims: 512, meta: "full+text", document: "empty", perCall: 1000, settings: ENGRAM_SETTINGS },
  { name: "call-2-now", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000 },
  { name: "call-2-sync-10", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000, settings: { "hnsw:sync_threshold": 10 } },
  { name: "call-2-sync-100", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000, settings: { "hnsw:sync_threshold": 100 } },
  { name: "call-2-engram-new", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000, settings: ENGRAM_SETTINGS },
  // A user with 8,000 memories adding one turn at a time: the cost of persisting a large index often.
  { name: "call-2-after-8k-now", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000, prefill: 8000 },
  { name: "call-2-after-8k-sync-10", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000, prefill: 8000, settings: { "hnsw:sync_threshold": 10 } },
  { name: "call-2-after-8k-sync-32", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000, prefill: 8000, settings: { "hnsw:sync_threshold": 32 } },
  { name: "call-2-after-8k-sync-50", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000, prefill: 8000, settings: { "hnsw:sync_threshold": 50 } },
  { name: "call-2-after-8k-engram-new", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000, prefill: 8000, settings: ENGRAM_SETTINGS },
  { name: "call-2-after-8k-sync-100", dims: 512, meta: "full+text", document: "empty", perCall: 2, records: 2000, prefill: 8000, settings: { "hnsw:sync_threshold": 100 } },
];
const session9 = all.slice(all.findIndex((v) => v.name === "row-now"));
const variants = (opts.session9 ? session9 : all).filter((v) => !opts.only || opts.only.split(",").includes(v.name));

const conversations = await loadLocomo(opts.data);
const pool = conversations.flatMap((c, ci) => c.turns.map((t) => ({ text: `${t.speaker}: ${t.text}`, thread: `s${t.session + 1000 * ci}` })));
const n = Number(opts.records);
const turns = Array.from({ length: n }, (_, i) => {
  const base = pool[i % pool.length]!;
  const round = Math.floor(i / pool.length);
  return round === 0 ? base : { text: `${base.text} (round ${round + 1})`, thread: base.thread };
});
const embeddings = new StaticEmbeddings();
const full512 = await embeddings.embedDocuments(turns.map((t) => t.text));
const queries = await embeddings.embedDocuments(pool.slice(0, 100).map((t) => `what about ${t.text.split(" ").slice(1, 6).join(" ")}`));

function truncate(vector: number[], dims: number): number[] {
  const part = vector.slice(0, dims);
  const norm = Math.hypot(...part) || 1;
  return part.map((x) => x / norm);
}

/** Engram's row today (store/chroma_records.ts toChromaMetadata) for an imported user turn. */
function fullRow(i: number, thread: string): Metadata {
  const t = 1_760_000_000_000 + i;
  return { userId: "u", kind: "episode", importance: 0.5, createdAt: t, updatedAt: t, lastAccessedAt: t, threadId: thread, role: "user", sourceThreadId: thread };
}

/** The keys Engram's `where` filters use, plus the rest as one JSON string. */
function packedRow(i: number, thread: string): Metadata {
  const row = fullRow(i, thread);
  const { userId, kind, createdAt, threadId, ...rest } = row;
  return { userId: userId!, kind: kind!, createdAt: createdAt!, threadId: threadId!, _m: JSON.stringify(rest) };
}

function exactTop(vectors: number[][], query: number[], k: number): string[] {
  return vectors
    .map((v, i) => ({ i, s: v.reduce((sum, x, d) => sum + x * query[d]!, 0) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => `r${x.i}`);
}

interface Result {
  chromaMs: number;
  /** Chroma CPU per request (per upsert call). */
  requestMs: number;
  nodeMs: number;
  rate: number;
  load: number;
  agreement: number;
  /** Chroma CPU per top-10 query. */
  queryMs: number;
}

async function waitIdle(pid: number | undefined): Promise<void> {
  // The server may index after answering: wait until its CPU stops moving (50 ms per 250 ms at most).
  for (let i = 0; i < 40; i += 1) {
    const a = treeCpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 250));
    if (treeCpuSeconds(pid) - a < 0.02) return;
  }
}

const scratch = await mkdtemp(join(tmpdir(), "engram-breakdown-"));
let started = opts.server ? undefined : await startChromaServer({ path: join(scratch, "chroma") });
if (started && opts.wal) {
  // Chroma 1.0 opens its SQLite file in whatever journal mode the file has (rollback journal: a
  // journal file written, synced and deleted per transaction). WAL is kept in the file.
  await started.stop();
  const db = new Database(join(scratch, "chroma", "chroma.sqlite3"));
  process.stderr.write(`journal_mode: ${JSON.stringify(db.pragma("journal_mode = WAL"))}\n`);
  db.close();
  started = await startChromaServer({ path: join(scratch, "chroma") });
}
const serverUrl = new URL(opts.server ?? started!.url);
const server = { pid: started ? started.pid : Number(opts.serverPid), stop: () => started?.stop() ?? Promise.resolve() };
if (!Number.isInteger(server.pid)) throw new Error("--server needs --server-pid (its CPU is what is measured)");
const client = new ChromaClient({ host: serverUrl.hostname, port: Number(serverUrl.port) });
const version = await fetch(new URL("/api/v2/version", serverUrl)).then((r) => r.text());
process.stderr.write(`Chroma server ${version}${opts.server ? ` at ${opts.server}` : " (started here)"}\n`);
const results = new Map<string, Result[]>();
/** Exact top-10 ids by dims/records/query, computed once. */
const exactTops = new Map<string, Set<string>>();
let serial = 0;
try {
  for (let round = 0; round < Number(opts.rounds); round += 1) {
    for (const v of variants) {
      const collection: Collection = await client.createCollection({
        name: `c${serial++}-${v.name}`,
        embeddingFunction: null,
        metadata: { "hnsw:space": "cosine", ...v.settings },
      });
      const count = Math.min(n, v.records ?? n);
      const prefill = Math.max(0, Math.min(n - count, v.prefill ?? 0));
      const vectors = v.dims === 512 ? full512 : full512.map((x) => truncate(x, v.dims));
      for (let first = count; first < count + prefill; first += 1000) {
        const ids = Array.from({ length: Math.min(1000, count + prefill - first) }, (_, k) => first + k);
        await upsertRows(collection, {
          ids: ids.map((i) => `r${i}`),
          embeddings: ids.map((i) => vectors[i]!),
          documents: ids.map(() => ""),
          metadatas: ids.map((i) => ({ ...fullRow(i, turns[i]!.thread), _text: turns[i]!.text })),
        });
      }
      await waitIdle(server.pid);
      const load = os.loadavg()[0]!;
      const c0 = treeCpuSeconds(server.pid);
      const n0 = nodeCpu();
      const start = performance.now();
      for (let first = 0; first < count; first += v.perCall) {
        const ids: string[] = [];
        const metas: Metadata[] = [];
        const docs: string[] = [];
        for (let i = first; i < Math.min(count, first + v.perCall); i += 1) {
          ids.push(`r${i}`);
          metas.push(
            v.meta === "full"
              ? fullRow(i, turns[i]!.thread)
              : v.meta === "full+text"
                ? { ...fullRow(i, turns[i]!.thread), _text: turns[i]!.text }
                : v.meta === "packed+text"
                  ? { ...packedRow(i, turns[i]!.thread), _text: turns[i]!.text }
                  : v.meta === "packed"
                  ? packedRow(i, turns[i]!.thread)
                  : {},
          );
          docs.push(turns[i]!.text);
        }
        const rows = { ids, embeddings: vectors.slice(first, first + ids.length), documents: v.document === "empty" ? ids.map(() => "") : docs, metadatas: metas };
        if (v.document === false || v.meta === "none") {
          await collection.upsert({
            ids,
            embeddings: rows.embeddings,
            ...(v.document ? { documents: docs } : {}),
            ...(v.meta !== "none" ? { metadatas: metas } : {}),
          });
        } else {
          await upsertRows(collection, rows);
        }
      }
      const wall = (performance.now() - start) / 1000;
      const nodeSec = nodeCpu() - n0;
      await waitIdle(server.pid);
      const chromaSec = treeCpuSeconds(server.pid) - c0;
      const calls = Math.ceil(count / v.perCall);
      const stored = vectors.slice(0, count + prefill);
      let agree = 0;
      const q0 = treeCpuSeconds(server.pid);
      for (const [qi, q] of queries.entries()) {
        const query = v.dims === 512 ? q : truncate(q, v.dims);
        const got = await collection.query({ queryEmbeddings: [query], nResults: 10, include: [] as never });
        const key = `${v.dims}/${count + prefill}/${qi}`;
        const exact = exactTops.get(key) ?? new Set(exactTop(stored, query, 10));
        exactTops.set(key, exact);
        agree += (got.ids[0] ?? []).filter((id) => exact.has(id)).length / 10;
      }
      await waitIdle(server.pid);
      const queryMs = ((treeCpuSeconds(server.pid) - q0) * 1000) / queries.length;
      const result: Result = {
        chromaMs: (chromaSec * 1000) / count,
        requestMs: (chromaSec * 1000) / calls,
        nodeMs: (nodeSec * 1000) / count,
        rate: count / wall,
        load,
        agreement: agree / queries.length,
        queryMs,
      };
      results.set(v.name, [...(results.get(v.name) ?? []), result]);
      await client.deleteCollection({ name: collection.name });
      process.stderr.write(
        `round ${round + 1} ${v.name}: chroma ${result.chromaMs.toFixed(3)} ms/rec (${result.requestMs.toFixed(1)} ms/request), node ${result.nodeMs.toFixed(3)} ms/rec, ${result.rate.toFixed(0)} rec/s, load ${load.toFixed(1)}, top-10 agreement ${result.agreement.toFixed(3)}, query ${result.queryMs.toFixed(2)} ms\n`,
      );
    }
  }
} finally {
  await server.stop();
  await rm(scratch, { recursive: true, force: true });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log(`LoCoMo dev turns (${n} per variant unless its records say fewer), one local Chroma server, median of ${opts.rounds} rounds`);
console.log("| variant | settings | dims | metadata | document | records | records/call | Chroma CPU ms/record | Chroma CPU ms/request | Node CPU ms/record | records/s | top-10 agreement | Chroma CPU ms/query | load |");
console.log("|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const v of variants) {
  const rs = results.get(v.name) ?? [];
  const med = (pick: (r: Result) => number, digits: number): string => median(rs.map(pick)).toFixed(digits);
  const settings = Object.entries(v.settings ?? {}).map(([k, x]) => `${k.replace("hnsw:", "")}=${String(x)}`).join(" ") || "defaults";
  console.log(
    `| ${v.name} | ${settings} | ${v.dims} | ${v.meta} | ${v.document === "empty" ? "empty" : v.document ? "yes" : "no"} | ${Math.min(n, v.records ?? n)}${v.prefill ? ` after ${v.prefill}` : ""} | ${v.perCall} | ${med((r) => r.chromaMs, 3)} | ${med((r) => r.requestMs, 1)} | ${med((r) => r.nodeMs, 3)} | ${med((r) => r.rate, 0)} | ${med((r) => r.agreement, 3)} | ${med((r) => r.queryMs, 2)} | ${med((r) => r.load, 1)} |`,
  );
}
