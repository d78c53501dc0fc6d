/**
 * What cross-process coherence costs: a warm `search` checks the user's revision (one round trip
 * to Chroma) before it trusts its in-process index; before, it compared the user's record count
 * (also one round trip, but blind to an update or a delete plus an add made by another process).
 * Both run here in the same process, on the same Chroma server, users and queries, in alternating
 * rounds: "count" is a Memory over a store without revisions (the old check), "revision" the
 * default. Also timed: one revision append (the extra round trip after each store write).
 *
 *   node --import tsx src/coherence_cost.ts [--records 500] [--searches 200] [--rounds 5] [--out bench-results]
 *
 * Imports Engram's sources (not dist): the count-only store needs the ChromaStore class, which is
 * not public.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { ChromaClient } from "chromadb";
import { Command } from "commander";
import { Memory } from "../../engram/src/memory/memory.js";
import { ChromaStore } from "../../engram/src/store/chroma_store.js";
import { startChromaServer } from "../../engram/src/store/chroma_server.js";
import { RevisionLog } from "../../engram/src/store/revision_log.js";
import type { EpisodicStore } from "../../engram/src/store/types.js";
import { StaticEmbeddings } from "../../engram/src/embeddings/static.js";
import { median, percentile } from "./stats.js";

const BENCH_ROOT = fileURLToPath(new URL("../", import.meta.url));
const o = new Command()
  .option("--records <n>", "records per user", "500")
  .option("--searches <n>", "warm searches per variant per round", "200")
  .option("--rounds <n>", "alternating rounds", "5")
  .option("--out <dir>", "folder for the result JSON", join(BENCH_ROOT, "bench-results"))
  .parse(process.argv)
  .opts<{ records: string; searches: string; rounds: string; out: string }>();
const records = Number(o.records);
const searches = Number(o.searches);
const rounds = Number(o.rounds);

/** The old check: a store that does not keep revisions, so recall compares record counts. */
function countOnly(inner: EpisodicStore): EpisodicStore {
  return {
    upsert: (u, items) => inner.upsert(u, items),
    query: (u, v, k, f) => inner.query(u, v, k, f),
    get: (u, ids, options) => inner.get(u, ids, options),
    list: (u, f) => inner.list(u, f),
    scan: (u) => inner.scan(u),
    delete: (u, ids) => inner.delete(u, ids),
    deleteUser: (u) => inner.deleteUser(u),
    count: (u) => inner.count(u),
    close: () => inner.close(),
  };
}

const dir = await mkdtemp(join(tmpdir(), "engram-coherence-bench-"));
const server = await startChromaServer({ path: join(dir, "chroma") });
const client = new ChromaClient({ host: server.host, port: server.port });
const embeddings = new StaticEmbeddings();
const WORDS = "tea coffee Paris Berlin cat dog chess piano rust python rain sun river mountain book film".split(" ");
const text = (i: number): string => `Note ${i}: the user mentioned ${WORDS[i % WORDS.length]} and ${WORDS[(i * 7) % WORDS.length]} on day ${i % 31}`;
const queries = Array.from({ length: 20 }, (_, i) => `what about ${WORDS[i % WORDS.length]} and ${WORDS[(i * 3) % WORDS.length]}`);

const variants = {
  count: new Memory({
    embeddings,
    dataDir: join(dir, "count"),
    writes: "sync",
    store: countOnly(new ChromaStore({ client: async () => client, prefix: "cnt" })),
  }),
  revision: new Memory({ embeddings, dataDir: join(dir, "revision"), writes: "sync", chroma: { url: server.url }, prefix: "rev" }),
};
const user = { userId: "bench-user" };
const times: Record<keyof typeof variants, number[]> = { count: [], revision: [] };
try {
  for (const memory of Object.values(variants)) {
    for (let i = 0; i < records; i += 100) {
      await memory.add(
        Array.from({ length: Math.min(100, records - i) }, (_, j) => ({ role: "user", content: text(i + j), id: `m${i + j}` })),
        user,
      );
    }
    // Warm: the index is built and every query's vector is cached, so what is timed is recall.
    for (const query of queries) await memory.search(query, user);
  }
  for (let round = 0; round < rounds; round += 1) {
    // Alternate which variant goes first, so that neither always follows the other's work.
    const order = Object.entries(variants) as Array<[keyof typeof variants, Memory]>;
    if (round % 2 === 1) order.reverse();
    for (const [name, memory] of order) {
      for (let i = 0; i < searches; i += 1) {
        const started = performance.now();
        await memory.search(queries[i % queries.length]!, user);
        times[name].push(performance.now() - started);
      }
    }
  }
  // The write side: one append to a revision log, alone.
  const log = new RevisionLog({ client: async () => client, prefix: "bench", call: (_op, run) => run() });
  await log.append("append-user");
  const appends: number[] = [];
  for (let i = 0; i < 100; i += 1) {
    const started = performance.now();
    await log.append("append-user");
    appends.push(performance.now() - started);
  }
  const summary = {
    records,
    searches: searches * rounds,
    countP50: median(times.count),
    countP95: percentile(times.count, 95),
    revisionP50: median(times.revision),
    revisionP95: percentile(times.revision, 95),
    ratioP50: median(times.revision) / median(times.count),
    appendP50: median(appends),
    appendP95: percentile(appends, 95),
  };
  console.log(JSON.stringify(summary, null, 2));
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "coherence_cost.json"), JSON.stringify(summary, null, 2) + "\n");
} finally {
  for (const memory of Object.values(variants)) await memory.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
