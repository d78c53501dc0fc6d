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
 * - records per request.
 * Each variant prints the server's CPU (its process tree, /proc) per record, this process's CPU per
 * record and the wall-clock rate, with the 1-minute load average. Variants run in rotation, `--rounds`
 * times, and the median of each is printed (the machine is shared and noisy).
 *
 *   node --import tsx src/chroma_breakdown.ts [--records 5000] [--rounds 3] [--only a,b]
 */
import { mkdtemp, rm } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ChromaClient, type Collection, type Metadata } from "chromadb";
import { Command } from "commander";
import { StaticEmbeddings, startChromaServer } from "../../engram/src/index.js";
import { upsertRows } from "../../engram/src/store/chroma_upsert.js";
import { loadLocomo } from "./locomo/data.js";
import { treeCpuSeconds } from "./process_cpu.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const opts = new Command()
  .option("--data <path>", "LoCoMo json", resolve(REPO_ROOT, "../shared/bench/locomo/locomo-dev.json"))
  .option("--records <n>", "records per variant", "5000")
  .option("--rounds <n>", "rotations over the variants (median printed)", "3")
  .option("--only <names>", "comma-separated variant names")
  .parse()
  .opts<{ data: string; records: string; rounds: string; only?: string }>();

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
}

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
];
const variants = all.filter((v) => !opts.only || opts.only.split(",").includes(v.name));

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
  nodeMs: number;
  rate: number;
  load: number;
  agreement?: number;
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
const server = await startChromaServer({ path: join(scratch, "chroma") });
const client = new ChromaClient({ host: server.host, port: server.port });
const results = new Map<string, Result[]>();
let serial = 0;
try {
  for (let round = 0; round < Number(opts.rounds); round += 1) {
    for (const v of variants) {
      const collection: Collection = await client.createCollection({ name: `c${serial++}-${v.name}`, embeddingFunction: null, metadata: { "hnsw:space": "cosine" } });
      const vectors = v.dims === 512 ? full512 : full512.map((x) => truncate(x, v.dims));
      await waitIdle(server.pid);
      const load = os.loadavg()[0]!;
      const c0 = treeCpuSeconds(server.pid);
      const n0 = nodeCpu();
      const start = performance.now();
      for (let first = 0; first < n; first += v.perCall) {
        const ids: string[] = [];
        const metas: Metadata[] = [];
        const docs: string[] = [];
        for (let i = first; i < Math.min(n, first + v.perCall); i += 1) {
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
      const result: Result = { chromaMs: (chromaSec * 1000) / n, nodeMs: (nodeSec * 1000) / n, rate: n / wall, load };
      if (v.perCall === 1000 && v.meta === "full" && v.document === true) {
        let agree = 0;
        for (const q of queries) {
          const query = v.dims === 512 ? q : truncate(q, v.dims);
          const got = await collection.query({ queryEmbeddings: [query], nResults: 10, include: [] as never });
          const exact = new Set(exactTop(vectors, query, 10));
          agree += (got.ids[0] ?? []).filter((id) => exact.has(id)).length / 10;
        }
        result.agreement = agree / queries.length;
      }
      results.set(v.name, [...(results.get(v.name) ?? []), result]);
      await client.deleteCollection({ name: collection.name });
      process.stderr.write(
        `round ${round + 1} ${v.name}: chroma ${result.chromaMs.toFixed(3)} ms/rec, node ${result.nodeMs.toFixed(3)} ms/rec, ${result.rate.toFixed(0)} rec/s, load ${load.toFixed(1)}${result.agreement !== undefined ? `, top-10 agreement ${result.agreement.toFixed(3)}` : ""}\n`,
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
console.log(`${n} LoCoMo dev turns per variant, one local Chroma server, median of ${opts.rounds} rounds`);
console.log("| variant | dims | metadata | document | records/call | Chroma CPU ms/record | Node CPU ms/record | records/s | top-10 agreement | load |");
console.log("|---|---:|---|---|---:|---:|---:|---:|---:|---:|");
for (const v of variants) {
  const rs = results.get(v.name) ?? [];
  const agreement = rs.find((r) => r.agreement !== undefined) ? median(rs.map((r) => r.agreement ?? 0)).toFixed(3) : "–";
  console.log(
    `| ${v.name} | ${v.dims} | ${v.meta} | ${v.document === "empty" ? "empty" : v.document ? "yes" : "no"} | ${v.perCall} | ${median(rs.map((r) => r.chromaMs)).toFixed(3)} | ${median(rs.map((r) => r.nodeMs)).toFixed(3)} | ${median(rs.map((r) => r.rate)).toFixed(0)} | ${agreement} | ${median(rs.map((r) => r.load)).toFixed(1)} |`,
  );
}
