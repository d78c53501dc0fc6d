/**
 * Store layout benchmark: the same synthetic memories stored in Chroma under different layouts
 * (see layouts.ts), measured against one real local Chroma server started in a temporary folder.
 *
 *   node --import tsx src/store_layout.ts --sizes 1000,10000,100000 --users 100
 *
 * For every total size N it measures, per layout: bulk ingest throughput, top-k search latency for
 * random users, single-record add latency; plus each layout's probes (the unfiltered floor). No
 * embedding model is involved: vectors are seeded random unit vectors, identical for every layout.
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { ChromaClient } from "chromadb";
import { Command, InvalidArgumentError } from "commander";
import { Dataset, Prng, deriveSeed, type BenchRecord } from "./data.js";
import { LAYOUTS, type StoreLayout } from "./layouts.js";
import type { StoreLayoutParameters } from "./store_layout_params.js";
import { chromadbVersion, formatMachine, machineInfo, type MachineInfo } from "./machine.js";
import { Scratch } from "./scratch.js";
import { log, progressBar } from "./progress.js";
import { formatMs, measure, summarize, type LatencySummary } from "./stats.js";

const CHROMA_BATCH_LIMIT = 5461;

/** Set on SIGINT/SIGTERM: the server is going away, so the errors that follow are expected. */
let interrupted = false;

interface Params extends StoreLayoutParameters {
  out: string;
  /** Re-render the reports of an earlier run instead of running. */
  fromJson?: string;
}

interface OpResult {
  summary: LatencySummary;
  /** Timed samples in ms, in call order. */
  samples: number[];
  /** Calls (warm-up included) whose results failed the sanity check. */
  badResults: number;
}

interface LayoutResult {
  layout: string;
  description: string;
  ingest: { records: number; seconds: number; recordsPerSec: number; countAfter?: number };
  search: OpResult;
  add: OpResult;
  /**
   * Writes still queued when the timed adds returned, waited for: `seconds` for the wait after the
   * last add, `msPerAdd` for the wall time from the first timed add to the end of the wait, per add.
   */
  drain?: { seconds: number; msPerAdd: number };
  /** Records stored after the drain (ingest + every add, warm-up ones included). */
  countAfterAdds?: number;
  probes: Record<string, OpResult>;
  /** Untimed one-time work before the searches (`StoreLayout.prepare`), measured per call. */
  oneTime?: Record<string, OpResult>;
}

interface SizeResult {
  size: number;
  recordsPerUser: number;
  layouts: LayoutResult[];
}

interface Report {
  benchmark: "store_layout";
  /** The command line that produced the report (from the repository root). */
  command?: string;
  machine: MachineInfo;
  chromaServerVersion: string;
  chromadbClient: string;
  parameters: Omit<Params, "out">;
  notes: string[];
  results: SizeResult[];
  totalSeconds: number;
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
    return n;
  };
}

function intList(value: string): number[] {
  const list = value.split(",").map((s) => Number(s.trim().replace(/_/g, "")));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new InvalidArgumentError("expected a comma-separated list of positive integers, e.g. 1000,10000");
  }
  return list;
}

function parseArgs(argv: string[]): Params {
  const known = LAYOUTS.map((f) => f().name);
  const program = new Command()
    .name("store_layout")
    .description("Benchmark Chroma store layouts: one shared collection filtered by userId vs one collection per user.")
    .option("--sizes <list>", "total record counts, comma-separated", intList, [1000, 10000, 100000])
    .option("--users <n>", "users the records are spread over", positiveInt("--users"), 100)
    .option("--dim <n>", "vector dimensions", positiveInt("--dim"), 512)
    .option("--queries <n>", "timed searches per layout and size", positiveInt("--queries"), 200)
    .option("--adds <n>", "timed single-record adds per layout and size", positiveInt("--adds"), 200)
    .option("--warmup <n>", "untimed calls before each timed operation", (v) => Number(v), 20)
    .option("--k <n>", "results per search", positiveInt("--k"), 10)
    .option("--seed <n>", "PRNG seed for data and queries", (v) => Number(v), 42)
    .option("--batch-size <n>", `records per add call when ingesting (max ${CHROMA_BATCH_LIMIT})`, positiveInt("--batch-size"), 5000)
    .option("--layouts <list>", `layouts to run, comma-separated (${known.join(", ")})`, (v) => v.split(",").map((s) => s.trim()), known)
    .option("--out <dir>", "folder for store_layout.json and store_layout.md", "bench-results")
    .option("--from-json <file>", "do not run: re-render store_layout.md (and the table) from an earlier store_layout.json")
    .parse(argv);
  const o = program.opts<Params>();
  if (o.batchSize > CHROMA_BATCH_LIMIT) program.error(`--batch-size must be at most ${CHROMA_BATCH_LIMIT} (Chroma's limit).`);
  if (!Number.isInteger(o.warmup) || o.warmup < 0) program.error("--warmup must be a non-negative integer.");
  if (!Number.isInteger(o.seed)) program.error("--seed must be an integer.");
  const unknown = o.layouts.filter((name) => !known.includes(name));
  if (unknown.length) program.error(`unknown layout(s): ${unknown.join(", ")}; known: ${known.join(", ")}`);
  const small = o.sizes.filter((n) => n < o.users);
  if (small.length) program.error(`every size must be at least --users (${o.users}); got ${small.join(", ")}.`);
  return { ...o, out: resolve(o.out) };
}

interface Workload {
  /** Search queries: warm-up ones first, then timed ones. */
  queries: { userId: string; vector: number[] }[];
  adds: { userId: string; record: BenchRecord }[];
}

/** Queries and adds for one size, identical for every layout. */
function workload(params: Params, data: Dataset): Workload {
  const prng = new Prng(deriveSeed(params.seed, "workload", data.size));
  const nQueries = params.warmup + params.queries;
  const queries = Array.from({ length: nQueries }, () => ({
    userId: data.users[prng.int(data.users.length)] as string,
    vector: prng.unitVector(new Array<number>(params.dim).fill(0)),
  }));
  const nAdds = params.warmup + params.adds;
  const adds = Array.from({ length: nAdds }, (_, i) => {
    const userId = data.users[prng.int(data.users.length)] as string;
    const record: BenchRecord = { id: `add${i}`, userId, vector: prng.unitVector(new Array<number>(params.dim).fill(0)) };
    return { userId, record };
  });
  return { queries, adds };
}

async function runLayout(
  layout: StoreLayout,
  client: ChromaClient,
  url: string,
  data: Dataset,
  work: Workload,
  params: Params,
): Promise<LayoutResult> {
  const tag = `N=${data.size} ${layout.name}`;
  await layout.setup({ client, url, prefix: `bench-${data.size}`, batchSize: params.batchSize });
  try {
    // Ingest.
    const ingestBar = progressBar(`${tag} ingest`, data.size);
    const t0 = performance.now();
    await layout.ingest(data, (n) => ingestBar.increment(n));
    const seconds = (performance.now() - t0) / 1000;
    ingestBar.stop();
    const countAfter = layout.count ? await layout.count() : undefined;
    if (countAfter !== undefined && countAfter !== data.size) {
      log(`WARNING: ${tag}: ${countAfter} records stored after ingest, expected ${data.size}`);
    }
    log(`${tag}: ingested ${data.size} records in ${seconds.toFixed(1)} s (${Math.round(data.size / seconds)}/s)`);

    // One-time work of a long-running process (untimed as a whole; the layout may report samples).
    const oneTime: Record<string, OpResult> = {};
    if (layout.prepare) {
      const t1 = performance.now();
      for (const [label, samples] of Object.entries(await layout.prepare(data, params.k))) {
        oneTime[label] = { summary: summarize(samples), samples: samples.map((ms) => Math.round(ms * 1000) / 1000), badResults: 0 };
      }
      log(`${tag}: prepared in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    }

    // Search (filtered or not, depending on the layout), with a sanity check on every result.
    const expected = (userId: string) => Math.min(params.k, data.indicesOf(userId).length);
    const search = await timedOp(`${tag} search`, params, params.queries, (i, warm) => {
      const q = work.queries[warm ? i : params.warmup + i]!;
      return layout.search(q.userId, q.vector, params.k).then((ids) => {
        const ok = ids.length === expected(q.userId) && ids.every((id) => data.ownerOf(id) === q.userId);
        return ok;
      });
    });

    // Probes (same query vectors, no user).
    const probes: Record<string, OpResult> = {};
    for (const [label, probe] of Object.entries(layout.probes ?? {})) {
      probes[label] = await timedOp(`${tag} ${label.split(":")[0]}`, params, params.queries, (i, warm) => {
        const q = work.queries[warm ? i : params.warmup + i]!;
        return probe(q.vector, params.k).then((ids) => ids.length === Math.min(params.k, data.size));
      });
    }

    // Single-record adds, last: they change the data.
    let firstTimedAdd = 0;
    const add = await timedOp(`${tag} add`, params, params.adds, (i, warm) => {
      if (!warm && i === 0) firstTimedAdd = performance.now();
      const a = work.adds[warm ? i : params.warmup + i]!;
      return layout.add(a.userId, a.record).then(() => true);
    });
    // Every add must reach the store: wait for what a layout left queued, and time it.
    const drainStart = performance.now();
    await layout.settle?.();
    const drainEnd = performance.now();
    const drain = { seconds: (drainEnd - drainStart) / 1000, msPerAdd: (drainEnd - firstTimedAdd) / params.adds };
    const countAfterAdds = layout.count ? await layout.count() : undefined;
    const expectedAfterAdds = data.size + params.warmup + params.adds;
    if (countAfterAdds !== undefined && countAfterAdds !== expectedAfterAdds) {
      throw new Error(`${tag}: ${countAfterAdds} records in the store after the adds and their drain, expected ${expectedAfterAdds}`);
    }
    failOnEngramWarnings(tag);
    log(`${tag}: drain after adds ${formatMs(drain.seconds * 1000)} ms; adds + drain ${formatMs(drain.msPerAdd)} ms per add`);

    if (search.badResults) log(`WARNING: ${tag}: ${search.badResults} searches returned wrong or missing records`);
    return {
      layout: layout.name,
      description: layout.description,
      ingest: { records: data.size, seconds, recordsPerSec: data.size / seconds, ...(countAfter !== undefined ? { countAfter } : {}) },
      search,
      add,
      drain,
      ...(countAfterAdds !== undefined ? { countAfterAdds } : {}),
      probes,
      ...(Object.keys(oneTime).length ? { oneTime } : {}),
    };
  } finally {
    try {
      await layout.teardown?.();
    } catch (error) {
      if (!interrupted) log(`WARNING: ${tag}: teardown failed: ${(error as Error).message}`);
    }
  }
}

/**
 * Engram's process warnings (`ENGRAM_EMBEDDING_FAILED`, `ENGRAM_WRITE_REFUSED`, ...) mean a write
 * did not reach the store as measured: the run fails rather than report figures without it.
 */
const engramWarnings: string[] = [];
process.on("warning", (warning: Error & { code?: string }) => {
  if (warning.code?.startsWith("ENGRAM_")) engramWarnings.push(`${warning.code}: ${warning.message}`);
});

function failOnEngramWarnings(tag: string): void {
  if (engramWarnings.length === 0) return;
  const seen = engramWarnings.splice(0);
  throw new Error(`${tag}: Engram warned ${seen.length} time(s), so writes did not reach the store as measured:\n  ${seen.slice(0, 5).join("\n  ")}`);
}

/** Warm-up then timed calls of `call`, which resolves to whether its result passed the sanity check. */
async function timedOp(
  label: string,
  params: Params,
  iterations: number,
  call: (index: number, warmup: boolean) => Promise<boolean>,
): Promise<OpResult> {
  const bar = progressBar(label, params.warmup + iterations);
  let badResults = 0;
  const { samples, summary } = await measure(call, {
    warmup: params.warmup,
    iterations,
    onCall: ({ result }) => {
      if (!result) badResults++;
      bar.increment();
    },
  });
  bar.stop();
  return { summary, samples: samples.map((ms) => Math.round(ms * 1000) / 1000), badResults };
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function markdownTable(report: Report): string {
  const lines = [
    "| N | layout | ingest (records/s) | search p50 (ms) | search p95 (ms) | add p50 (ms) | add p95 (ms) | drain after adds (ms) | adds + drain per add (ms) |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const size of report.results) {
    for (const r of size.layouts) {
      lines.push(
        `| ${fmtInt(size.size)} | ${r.layout} | ${fmtInt(r.ingest.recordsPerSec)} | ${formatMs(r.search.summary.p50)} | ` +
          `${formatMs(r.search.summary.p95)} | ${formatMs(r.add.summary.p50)} | ${formatMs(r.add.summary.p95)} | ` +
          `${r.drain ? formatMs(r.drain.seconds * 1000) : "–"} | ${r.drain ? formatMs(r.drain.msPerAdd) : "–"} |`,
      );
      for (const [label, probe] of [...Object.entries(r.probes), ...Object.entries(r.oneTime ?? {})]) {
        lines.push(`| ${fmtInt(size.size)} | ${label} | – | ${formatMs(probe.summary.p50)} | ${formatMs(probe.summary.p95)} | – | – | – | – |`);
      }
    }
  }
  return lines.join("\n");
}

function comparisons(report: Report): string[] {
  const out: string[] = [];
  const engramLines: string[] = [];
  for (const size of report.results) {
    const shared = size.layouts.find((l) => l.layout === "shared");
    const perUser = size.layouts.find((l) => l.layout === "per-user");
    const engram = size.layouts.find((l) => l.layout === "engram");
    const ratio = (a: number, b: number) =>
      Math.max(a / b, b / a) < 1.1 ? "about as fast as" : a > b ? `${(a / b).toFixed(1)}× slower than` : `${(b / a).toFixed(1)}× faster than`;
    if (engram && perUser) {
      engramLines.push(
        `- N=${fmtInt(size.size)}: engram search p50 ${formatMs(engram.search.summary.p50)} / p95 ${formatMs(engram.search.summary.p95)} ms ` +
          `vs per-user ${formatMs(perUser.search.summary.p50)} / ${formatMs(perUser.search.summary.p95)} ms ` +
          `(+${formatMs(engram.search.summary.p50 - perUser.search.summary.p50)} ms at p50); ` +
          `add p50 ${formatMs(engram.add.summary.p50)} / p95 ${formatMs(engram.add.summary.p95)} ms ` +
          `vs ${formatMs(perUser.add.summary.p50)} / ${formatMs(perUser.add.summary.p95)} ms; ` +
          `ingest ${fmtInt(engram.ingest.recordsPerSec)} vs ${fmtInt(perUser.ingest.recordsPerSec)} records/s.`,
      );
    }
    const background = size.layouts.find((l) => l.layout === "engram-background");
    if (background?.drain) {
      engramLines.push(
        `- N=${fmtInt(size.size)}: engram-background add p50 ${formatMs(background.add.summary.p50)} / p95 ${formatMs(background.add.summary.p95)} ms ` +
          `(durable in the outbox); drain after the last add ${formatMs(background.drain.seconds * 1000)} ms; ` +
          `adds + drain ${formatMs(background.drain.msPerAdd)} ms per add.`,
      );
    }
    if (!shared || !perUser) continue;
    out.push(
      `- N=${fmtInt(size.size)} (${fmtInt(size.recordsPerUser)}/user): shared search is ` +
        `${ratio(shared.search.summary.p50, perUser.search.summary.p50)} per-user at p50 ` +
        `(${formatMs(shared.search.summary.p50)} vs ${formatMs(perUser.search.summary.p50)} ms) and ` +
        `${ratio(shared.search.summary.p95, perUser.search.summary.p95)} it at p95 ` +
        `(${formatMs(shared.search.summary.p95)} vs ${formatMs(perUser.search.summary.p95)} ms); ` +
        `add p50 ${formatMs(shared.add.summary.p50)} vs ${formatMs(perUser.add.summary.p50)} ms; ` +
        `ingest ${fmtInt(shared.ingest.recordsPerSec)} vs ${fmtInt(perUser.ingest.recordsPerSec)} records/s.`,
    );
  }
  return [...out, ...engramLines];
}

function markdownReport(report: Report): string {
  const p = report.parameters;
  return [
    "# Store layout benchmark",
    "",
    `- Machine: ${formatMachine(report.machine)}`,
    `- Date: ${report.machine.date}; total run ${report.totalSeconds.toFixed(0)} s`,
    `- Chroma server ${report.chromaServerVersion} (npm chromadb ${report.chromadbClient}), one local server, client on the same machine`,
    `- Parameters: sizes ${p.sizes.join(", ")}; ${p.users} users; ${p.dim}-d seeded random unit vectors (seed ${p.seed}); ` +
      `top-${p.k}; ${p.queries} searches and ${p.adds} adds per layout and size after ${p.warmup} warm-up calls each; ` +
      `ingest batches of ${p.batchSize}`,
    "",
    "Layouts:",
    ...report.results[0]!.layouts.map((l) => `- \`${l.layout}\`: ${l.description}`),
    "",
    markdownTable(report),
    "",
    ...comparisons(report),
    "",
    "Notes:",
    ...report.notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const params = parseArgs(process.argv);
  if (params.fromJson) {
    const report = JSON.parse(readFileSync(params.fromJson, "utf8")) as Report;
    await writeReports(report, params.out);
    return;
  }
  const started = performance.now();
  const machine = machineInfo();
  const layoutFactories = LAYOUTS.filter((f) => params.layouts.includes(f().name));

  const scratch = await Scratch.open("engram-bench-chroma-", () => {
    interrupted = true;
  });
  const dataDir = scratch.dir;

  try {
    // Each layout and size runs on a fresh server in its own folder: one server holding every
    // layout's collections at 100k records grew past 20 GB and was killed by the kernel.
    const fresh = async (name: string) => {
      const server = await scratch.startServer(name);
      return { server, client: new ChromaClient({ host: server.host, port: server.port }) };
    };
    const stopFresh = (name: string) => scratch.stopServer(name);
    const first = await fresh("version");
    const chromaServerVersion = await first.client.version();
    log(`Chroma ${chromaServerVersion}, a fresh server per layout and size, data under ${dataDir}`);
    await stopFresh("version");

    const results: SizeResult[] = [];
    for (const size of params.sizes) {
      const t = performance.now();
      const data = new Dataset(size, params.users, params.dim, params.seed);
      const work = workload(params, data);
      log(`N=${size}: generated ${size} × ${params.dim}-d vectors in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      const layouts: LayoutResult[] = [];
      for (const [i, factory] of layoutFactories.entries()) {
        const name = `${size}-${i}`;
        const { server: s, client } = await fresh(name);
        try {
          layouts.push(await runLayout(factory(), client, s.url, data, work, params));
        } finally {
          await stopFresh(name);
        }
      }
      results.push({ size, recordsPerUser: size / params.users, layouts });
    }

    const { out, fromJson: _, ...parameters } = params;
    const report: Report = {
      benchmark: "store_layout",
      command: commandLine(),
      machine,
      chromaServerVersion,
      chromadbClient: chromadbVersion(),
      parameters,
      notes: [
        "Latencies are client-observed (HTTP round trip to the local server included), one call at a time, measured with performance.now(); no embedding call is involved.",
        "The raw layouts (shared, per-user, floor) ask Chroma for ids and distances only (include: [\"distances\"]); engram asks for what it returns (documents, metadatas, distances).",
        "All layouts are measured on identical data, queries and adds; each layout and size runs on a fresh Chroma server (its own data folder), stopped after it.",
        "per-user keeps collection handles cached (as an application would); creating each collection, and the first write that builds its index, count in its ingest time: a fixed cost per user that dominates at small N.",
        "The floor is an unfiltered top-k query over the whole shared collection: the cost of the ANN search alone, without the userId filter.",
        "Adds run after the searches, each a new record for a random user.",
        ...layoutFactories.flatMap((f) => f().notes ?? []),
      ],
      results,
      totalSeconds: (performance.now() - started) / 1000,
    };

    await writeReports(report, out);
  } finally {
    await scratch.close();
  }
}

/** Writes store_layout.json and store_layout.md to `out` and prints the table to stdout. */
async function writeReports(report: Report, out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "store_layout.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(out, "store_layout.md"), markdownReport(report));
  process.stdout.write(`\n${markdownTable(report)}\n\n${comparisons(report).join("\n")}\n`);
  log(`\nWrote ${join(out, "store_layout.json")} and ${join(out, "store_layout.md")}`);
}

/** How this run was started, as a command to type from the repository root. */
function commandLine(): string {
  // --out is left out: where the files went does not change the figures.
  const argv = process.argv.slice(2).filter((a, i, all) => a !== "--out" && all[i - 1] !== "--out" && !a.startsWith("--out="));
  const args = argv.map((a) => (/^[\w.,=\/:-]+$/.test(a) ? a : JSON.stringify(a)));
  return ["corepack yarn workspace engram-bench store-layout", ...args].join(" ");
}

main().catch((error: unknown) => {
  if (interrupted) return;
  process.stderr.write(`store_layout failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
