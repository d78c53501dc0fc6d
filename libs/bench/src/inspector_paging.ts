/**
 * `engram ui` on a large user: one user with 100,000 memories in a real Chroma server, then pages of
 * the inspector's list (over HTTP, as the page asks for them: newest first, sorted by importance,
 * filtered by text) against the baseline of `memory.getAll({ limit, offset })`, which reads the
 * user's whole list from the store for every page. Same process, same server, same user.
 *
 *   node --import tsx src/inspector_paging.ts [--records 100000] [--pages 20] [--baseline-pages 5] [--out bench-results]
 *
 * Imports Engram's sources (not dist), like the other store benchmarks. The records are written
 * straight to the store (the list reads no vectors); only the baseline opens a Memory.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { Memory } from "../../engram/src/memory/memory.js";
import { startChromaServer } from "../../engram/src/store/chroma_server.js";
import { ChromaClient } from "chromadb";
import type { MemoryRecord } from "../../engram/src/core/types.js";
import { ChromaStore } from "../../engram/src/store/chroma_store.js";
import { StaticEmbeddings } from "../../engram/src/embeddings/static.js";
import { startInspector } from "../../engram/src/ui/server.js";
import { machineInfo } from "./machine.js";
import { median, percentile } from "./stats.js";

const BENCH_ROOT = fileURLToPath(new URL("../", import.meta.url));
const o = new Command()
  .option("--records <n>", "memories of the one user", "100000")
  .option("--pages <n>", "pages timed per inspector variant", "20")
  .option("--baseline-pages <n>", "pages timed through getAll (each reads the whole list)", "5")
  .option("--out <dir>", "folder for the result JSON", join(BENCH_ROOT, "bench-results"))
  .parse(process.argv)
  .opts<{ records: string; pages: string; baselinePages: string; out: string }>();
const total = Number(o.records);
const pages = Number(o.pages);
const baselinePages = Number(o.baselinePages);
const SIZE = 50;

const dir = await mkdtemp(join(tmpdir(), "engram-inspector-bench-"));
const server = await startChromaServer({ path: join(dir, "chroma") });
const dataDir = join(dir, "data");
// The folder's model, named explicitly: unmarked data opened with the default would be taken for the old default's.
const embeddings = new StaticEmbeddings();
const memory = new Memory({ dataDir, chroma: { url: server.url }, embeddings, writes: "sync" });
const WORDS = "tea coffee Paris Berlin cat dog chess piano rust python rain sun river mountain book film".split(" ");

async function timed<T>(run: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await run();
  return [performance.now() - start, value];
}

try {
  const started = performance.now();
  // Written straight to the store, as an app's drains leave them (Memory.add would spend minutes on
  // 100,000 one-record history checks); the list never reads vectors, so 8 dimensions do.
  const store = new ChromaStore({ client: async () => new ChromaClient({ host: server.host, port: server.port }), prefix: "engram" });
  const now = Date.now();
  for (let start = 0; start < total; start += 5_000) {
    const batch = Array.from({ length: Math.min(5_000, total - start) }, (_, j) => {
      const i = start + j;
      const createdAt = now - (total - i) * 60_000;
      const record: MemoryRecord = {
        id: `note-${i}`,
        scope: { userId: "big", threadId: `t${i % 20}` },
        kind: i % 10 === 0 ? "fact" : "episode",
        content: `Note ${i}: ${WORDS[i % WORDS.length]} and ${WORDS[(i * 7) % WORDS.length]} on day ${i % 365}`,
        importance: (i % 100) / 100,
        createdAt,
        updatedAt: createdAt,
        lastAccessedAt: createdAt,
        source: { threadId: `t${i % 20}` },
        metadata: {},
      };
      return { record, embedding: Array.from({ length: 8 }, (_, k) => Math.sin(i * (k + 1))) };
    });
    await store.upsert("big", batch);
    process.stderr.write(`\rwritten ${Math.min(start + 5_000, total)} / ${total}`);
  }
  const ingestS = (performance.now() - started) / 1000;
  process.stderr.write("\n");

  const inspector = await startInspector({ dataDir, chromaUrl: server.url, embeddings });
  const api = async (path: string) => {
    const response = await fetch(`${inspector.origin}${path}`, { headers: { "x-engram-token": inspector.token } });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return (await response.json()) as { matching: number; records: unknown[] };
  };
  const pageNumbers = Array.from({ length: pages }, (_, i) => 1 + Math.floor(((i * 7919) % total) / SIZE));

  const [coldMs, first] = await timed(() => api(`/api/users/big/memories?size=${SIZE}`));
  if (first.matching !== total) throw new Error(`expected ${total} records, the inspector lists ${first.matching}`);
  const warm: number[] = [];
  const byImportance: number[] = [];
  const filtered: number[] = [];
  const baseline: number[] = [];
  // Alternating, so a busy moment of the machine hits both sides.
  for (const page of pageNumbers) {
    warm.push((await timed(() => api(`/api/users/big/memories?size=${SIZE}&page=${page}`)))[0]);
    byImportance.push((await timed(() => api(`/api/users/big/memories?size=${SIZE}&page=${page}&sort=importance`)))[0]);
    filtered.push((await timed(() => api(`/api/users/big/memories?size=${SIZE}&text=piano&kind=fact`)))[0]);
    if (baseline.length < baselinePages) baseline.push((await timed(() => memory.getAll({ userId: "big", limit: SIZE, offset: (page - 1) * SIZE })))[0]);
  }
  const [usersMs] = await timed(() => api("/api/users"));
  const [pageHtmlMs] = await timed(async () => (await fetch(`${inspector.origin}/users/big`, { headers: { "x-engram-token": inspector.token } })).text());
  await inspector.close();

  const stats = (values: number[]) => ({ p50: round(median(values)), p95: round(percentile(values, 95)) });
  const summary = {
    benchmark: "inspector_paging",
    machine: machineInfo(),
    records: total,
    pageSize: SIZE,
    pagesTimed: pages,
    baselinePagesTimed: baselinePages,
    ingestSeconds: round(ingestS),
    firstPageColdMs: round(coldMs),
    inspectorPageMs: stats(warm),
    inspectorByImportanceMs: stats(byImportance),
    inspectorTextFilterMs: stats(filtered),
    baselineGetAllPageMs: stats(baseline),
    speedupP50: round(median(baseline) / median(warm)),
    usersListMs: round(usersMs),
    userHtmlPageMs: round(pageHtmlMs),
  };
  await mkdir(o.out, { recursive: true });
  await writeFile(join(o.out, "inspector_paging.json"), JSON.stringify(summary, null, 2) + "\n");
  console.log(JSON.stringify(summary, null, 2));
} finally {
  await memory.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
