/**
 * Ingest throughput with the static model (`StaticEmbeddings`, passed explicitly; `--embeddings`
 * runs USE-Lite on ONNX Runtime or TF.js instead or beside) and one local
 * Chroma server started here, against a baseline build of Engram in the same process (the library
 * source of an earlier commit, extracted with `git archive`), so a before/after pair shares the
 * machine's load. For each configuration, baseline and current run back to back:
 * - bulk import of one user's turns: `addMany(items, { userId })` (the baseline, which has no
 *   `addMany`, gets `add` of up to 1,000 messages per call, one thread per session, as before),
 *   then `flush()`; turns/s until every record is in Chroma;
 * - one turn per `add` (background writes, the default): the add rate (calls acknowledged, durable
 *   in the outbox), add p50/p95, and the rate including the drain (until `flush()` returns).
 * Each build encodes with its own `StaticEmbeddings` (the same table file).
 * Entity tagging: "off" (`entities: { extract: false }`: the bulk import, the target's row), "default"
 * (the engine's own defaults: tagging on in builds before it followed the boost, off since; one turn
 * per `add`, the other target's row) and "on" (`entities: { extract: true }`, both paths). Every run
 * reports the CPU time per turn of this process and of the Chroma server (its process tree, from
 * /proc), and the 1-minute load average; it fails when a record is missing from the store or
 * Engram warns (a write dropped or left queued).
 * Texts are LoCoMo dev turns, repeated with a round number when more are asked for than exist.
 *
 * Several baselines (`--baseline 37728a5,aa092d6`) each run before the current build in every
 * round; ratios are against the first.
 *
 *   node --import tsx src/ingest.ts [--bulk 10000] [--turns 2000] [--tagged 2000] [--baseline f5710eb[,ref...]|none] [--rounds 1]
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import * as current from "../../engram/src/index.js";
import { DEFAULT_STATIC_MODEL_PATH } from "../../engram/src/embeddings/static_model.js";
import { loadLocomo } from "./locomo/data.js";
import { importBaseline } from "./baseline_source.js";
import { formatMachine, machineInfo } from "./machine.js";
import { treeCpuSeconds } from "./process_cpu.js";
import { summarize, type LatencySummary } from "./stats.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const opts = new Command()
  .option("--data <path>", "LoCoMo json", resolve(REPO_ROOT, "../shared/bench/locomo/locomo-dev.json"))
  .option("--bulk <n>", "turns of the bulk import, entity tagging off", "10000")
  .option("--turns <n>", "turns added one per call, with the default options", "2000")
  .option("--tagged <n>", "turns of each run with entity tagging on (both paths; the tagger costs milliseconds a turn; 0: none)", "2000")
  .option("--baseline <refs>", "git commit(s) whose libs/engram/src is the baseline (comma-separated: each runs before the current build; ratios against the first), or none", "f5710eb")
  .option("--embeddings <list>", "models, comma-separated (static, use-lite-onnx, use-lite-tfjs); each runs with each build, ratios against the first entry", "static")
  .option("--rounds <n>", "baseline/current pairs per configuration, alternating (medians printed: the machine is shared)", "1")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ data: string; bulk: string; turns: string; tagged: string; baseline: string; rounds: string; embeddings: string; out: string }>();

type Engine = typeof current;
type Path = "bulk" | "single";
type Tagging = "off" | "default" | "on";

interface Turn {
  text: string;
  session: number;
}

const conversations = await loadLocomo(opts.data);
/** A turn as the LoCoMo bench stores it (locomo/retrievers.ts turnContent: speaker, then text). */
const pool: Turn[] = conversations.flatMap((c, ci) => c.turns.map((t) => ({ text: `${t.speaker}: ${t.text}`, session: t.session + 1_000 * ci })));
/** `n` distinct turns: the dev turns in order, then again with a round number. */
function turnsOf(n: number): Turn[] {
  return Array.from({ length: n }, (_, i) => {
    const base = pool[i % pool.length]!;
    const round = Math.floor(i / pool.length);
    return round === 0 ? base : { text: `${base.text} (round ${round + 1})`, session: base.session + 100_000 * round };
  });
}

/** The baseline's library source (baseline_source.ts), or none. */
async function loadBaseline(ref: string): Promise<Engine | undefined> {
  return ref === "none" ? undefined : importBaseline<Engine>(ref);
}


function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

interface Run {
  /** "current", or the baseline's ref ("baseline" when there is one baseline). */
  engine: string;
  path: Path;
  tagging: Tagging;
  /** Whether the records were tagged (read back from a warm-up record). */
  tagged: boolean;
  turns: number;
  /** Turns/s of the calls alone (acknowledged, durable in the outbox). */
  addRate: number;
  /** Turns/s until `flush()` returned: every record in Chroma. */
  drainedRate: number;
  /** CPU ms per turn of this process, adds and drain. */
  cpuMsPerTurn: number;
  /**
   * Of it, until the calls returned (the bulk import: `addMany` itself, planning and queueing,
   * before its drain starts; one turn per add: the calls with the drains running beside them).
   */
  callsCpuMsPerTurn: number;
  /** CPU ms per turn of the Chroma server's processes. */
  chromaCpuMsPerTurn: number;
  load1: number;
  add?: LatencySummary;
}

const warnings: string[] = [];
process.on("warning", (warning) => {
  const code = (warning as Error & { code?: string }).code;
  if (code?.startsWith("ENGRAM_")) warnings.push(`${code}: ${warning.message}`);
});

const baselineRefs = opts.baseline === "none" ? [] : opts.baseline.split(",").map((ref) => ref.trim());
const kinds = opts.embeddings.split(",").map((kind) => kind.trim());
for (const kind of kinds) if (!["static", "use-lite-onnx", "use-lite-tfjs"].includes(kind)) throw new Error(`--embeddings: static, use-lite-onnx or use-lite-tfjs, got ${kind}`);
/** USE-Lite's instances, one per runtime, shared by every build (the baseline's source may have no runtime option). */
const localModels = new Map<string, InstanceType<typeof current.LocalEmbeddings>>();
for (const kind of kinds.filter((k) => k !== "static")) {
  const model = new current.LocalEmbeddings({ runtime: kind === "use-lite-onnx" ? "onnx" : "tfjs" });
  await model.embedDocuments(["warm-up"]); // loads the model in its workers: not timed
  localModels.set(kind, model);
}
const builds: Array<[string, Engine]> = [];
for (const ref of baselineRefs) builds.push([baselineRefs.length === 1 ? "baseline" : ref, (await loadBaseline(ref))!]);
builds.push(["current", current]);
/** Each build with each model: [name, engine, model]. */
const engines: Array<[string, Engine, string]> = builds.flatMap(([name, engine]) => kinds.map((kind): [string, Engine, string] => [kinds.length > 1 ? `${name} ${kind}` : name, engine, kind]));
const firstBaseline = engines.length > 1 ? engines[0]![0] : undefined;
const runs: Run[] = [];
// The library's own launcher, from the source (not the built package another session may be rebuilding).
const scratch = { dir: await mkdtemp(join(tmpdir(), "engram-ingest-")) };
const server = await current.startChromaServer({ path: join(scratch.dir, "chroma") });
try {
  const configs: Array<{ path: Path; tagging: Tagging; turns: number }> = [
    { path: "bulk" as const, tagging: "off" as const, turns: Number(opts.bulk) },
    { path: "single" as const, tagging: "default" as const, turns: Number(opts.turns) },
    { path: "bulk" as const, tagging: "on" as const, turns: Number(opts.tagged) },
    { path: "single" as const, tagging: "on" as const, turns: Number(opts.tagged) },
  ].filter((config) => config.turns > 0);
  for (const config of configs) {
    for (let round = 1; round <= Number(opts.rounds); round += 1) for (const [name, engine, kind] of engines) {
      const label = `${name.replace(/ /g, "-")}-${config.path}-${config.tagging}-r${round}`;
      const memory = new engine.Memory({
        dataDir: join(scratch.dir, label),
        chroma: { url: server.url },
        // Each build's own encoder (the model's CPU is part of a turn's), reading the same table:
        // the baseline's extracted source has no models/ folder.
        embeddings: localModels.get(kind) ?? new engine.StaticEmbeddings({ modelPath: DEFAULT_STATIC_MODEL_PATH }),
        ...(config.tagging === "off" ? { entities: { extract: false, boost: 0 } } : config.tagging === "on" ? { entities: { extract: true } } : {}),
      });
      // Loads the model and the tagger, opens the state and the marker collection: not timed.
      await memory.add("Ana flew to Lisbon to warm up", { userId: `warm-${label}` });
      await memory.flush();
      // Whether this engine's options tag entities (read back, so any baseline is named right).
      const tagged = (await memory.getAll({ userId: `warm-${label}` }))[0]?.metadata.entities !== undefined;
      const turns = turnsOf(config.turns);
      const userId = `u-${label}`;
      const perCall: number[] = [];
      const load1 = os.loadavg()[0]!;
      const chroma0 = treeCpuSeconds(server.pid);
      const cpu0 = cpuSeconds();
      const start = performance.now();
      if (config.path === "bulk") {
        const items = turns.map((t) => ({ content: t.text, role: "user", threadId: `s${t.session}` }));
        if (typeof (memory as { addMany?: unknown }).addMany === "function") {
          await memory.addMany(items, { userId });
        } else {
          // The baseline's bulk path: up to 1,000 messages per add, one call per session (thread).
          for (let first = 0; first < items.length; first += 1_000) {
            const byThread = new Map<string, Array<{ role: string; content: string }>>();
            for (const item of items.slice(first, first + 1_000)) byThread.set(item.threadId, [...(byThread.get(item.threadId) ?? []), item]);
            await Promise.all([...byThread].map(([threadId, messages]) => memory.add(messages, { userId, threadId })));
          }
        }
      } else {
        for (const t of turns) {
          const t0 = performance.now();
          await memory.add([{ role: "user", content: t.text }], { userId, threadId: "live" });
          perCall.push(performance.now() - t0);
        }
      }
      const added = performance.now();
      const callsCpu = cpuSeconds() - cpu0;
      await memory.flush();
      const done = performance.now();
      const cpu = cpuSeconds() - cpu0;
      const chroma = treeCpuSeconds(server.pid) - chroma0;
      const stored = (await memory.getAll({ userId, limit: 10_000 })).length;
      await memory.close();
      if (stored !== Math.min(turns.length, 10_000)) throw new Error(`${label}: ${stored} of ${turns.length} records in the store`);
      if (warnings.length > 0) throw new Error(`${label}: Engram warned: ${warnings.join("; ")}`);
      const run: Run = {
        engine: name,
        ...config,
        tagged,
        addRate: turns.length / ((added - start) / 1000),
        drainedRate: turns.length / ((done - start) / 1000),
        cpuMsPerTurn: (cpu * 1000) / turns.length,
        callsCpuMsPerTurn: (callsCpu * 1000) / turns.length,
        chromaCpuMsPerTurn: (chroma * 1000) / turns.length,
        load1,
        ...(perCall.length > 0 ? { add: summarize(perCall) } : {}),
      };
      runs.push(run);
      process.stderr.write(`${label}: ${run.drainedRate.toFixed(0)} turns/s incl. drain, add ${run.addRate.toFixed(0)}/s, ${run.cpuMsPerTurn.toFixed(2)} (calls ${run.callsCpuMsPerTurn.toFixed(3)}) + ${run.chromaCpuMsPerTurn.toFixed(2)} CPU ms/turn, load ${load1.toFixed(1)}\n`);
    }
  }
} finally {
  for (const model of localModels.values()) await model.close();
  await server.stop();
  await rm(scratch.dir, { recursive: true, force: true });
}

const int = (x: number): string => Math.round(x).toLocaleString("en-US");
const ms = (x: number): string => (x >= 10 ? x.toFixed(0) : x.toFixed(2));
const taggingName = (r: Run): string => (r.tagging === "default" ? `default (${r.tagged ? "on" : "off"})` : r.tagging);
const pathName = (r: Run): string => (r.path === "bulk" ? "bulk import of one user" : "one turn per add");
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
/** One row per build and configuration: the median of its rounds (each field on its own). */
const rows: Array<Run & { rounds: number }> = [];
for (const r of runs) {
  if (rows.some((x) => x.engine === r.engine && x.path === r.path && x.tagging === r.tagging)) continue;
  const same = runs.filter((x) => x.engine === r.engine && x.path === r.path && x.tagging === r.tagging);
  const pick = (f: (x: Run) => number): number => median(same.map(f));
  rows.push({
    ...r,
    rounds: same.length,
    addRate: pick((x) => x.addRate),
    drainedRate: pick((x) => x.drainedRate),
    cpuMsPerTurn: pick((x) => x.cpuMsPerTurn),
    callsCpuMsPerTurn: pick((x) => x.callsCpuMsPerTurn),
    chromaCpuMsPerTurn: pick((x) => x.chromaCpuMsPerTurn),
    load1: pick((x) => x.load1),
    ...(r.add ? { add: { ...r.add, p50: pick((x) => x.add?.p50 ?? 0), p95: pick((x) => x.add?.p95 ?? 0) } } : {}),
  });
}
const ratio = (r: Run, pick: (x: Run) => number): string => {
  const before = rows.find((b) => b.engine === firstBaseline && b.path === r.path && b.tagging === r.tagging);
  return r.engine !== firstBaseline && before ? ` (${(pick(r) / pick(before)).toFixed(1)}x)` : "";
};
const markdown = [
  `One user's LoCoMo dev turns (repeated with a round number past 2,760), ${kinds.join(" and ")}, one local Chroma server; baseline = libs/engram/src of ${opts.baseline}, run in the same process just before each current run (rounds alternate baseline and current; each figure is the median of the rounds).`,
  "",
  "| path | entity tagging | build | turns | rounds | add (turns/s) | add p50 / p95 (ms) | incl. drain (turns/s) | CPU ms/turn: Node + Chroma | Node's until the calls returned | load (1 min) |",
  "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${pathName(r)} | ${taggingName(r)} | ${r.engine} | ${int(r.turns)} | ${r.rounds} | ${int(r.addRate)}${ratio(r, (x) => x.addRate)} | ${r.add ? `${ms(r.add.p50)} / ${ms(r.add.p95)}` : "–"} | ${int(r.drainedRate)}${ratio(r, (x) => x.drainedRate)} | ${ms(r.cpuMsPerTurn)} + ${ms(r.chromaCpuMsPerTurn)} | ${r.callsCpuMsPerTurn.toFixed(3)}${ratio(r, (x) => x.callsCpuMsPerTurn)} | ${r.load1.toFixed(1)} |`,
  ),
].join("\n");
console.log(markdown);
await mkdir(opts.out, { recursive: true });
const machine = machineInfo();
await writeFile(
  join(opts.out, "ingest.json"),
  JSON.stringify(
    {
      title: "Ingest throughput (static model)",
      command: `node --import tsx src/ingest.ts --bulk ${opts.bulk} --turns ${opts.turns} --tagged ${opts.tagged} --baseline ${opts.baseline} --embeddings ${opts.embeddings} --rounds ${opts.rounds}`,
      machine,
      machineLine: formatMachine(machine),
      runs,
      markdown,
    },
    null,
    2,
  ),
);
