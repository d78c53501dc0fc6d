/**
 * The graph's overhead per turn (issue 13 item 5: p95 <= 15 ms, embedding included; issue 5:
 * p95 < 25 ms), before and after, in one process: with the static model, or with USE-Lite on ONNX
 * Runtime or TF.js (`--embeddings static,use-lite-onnx,use-lite-tfjs`: each source with each).
 *
 * A few hundred LoCoMo turns (one dev conversation, one user, one thread per session) go through
 * `createMemoryGraph` with `StaticEmbeddings` and a scripted chat model (no LLM). Each turn is timed
 * node by node from LangGraph's callbacks (recall + score + remember + consolidate = the overhead;
 * the model node is left out), with the process's CPU time per turn and the load average. What a
 * turn leaves to the background (its records' embedding and upserts) is `memory.flush()`ed after
 * the turn, timed apart, as a user reading the reply gives it that time.
 *
 * "before" is the engram source of a git commit (`--baseline`, extracted with `git archive` into a
 * temporary folder, nothing in the working tree touched), "after" is the working tree's source;
 * both run in this process on one Chroma server, in alternating order over `--rounds`, with the
 * same embeddings instance, so load hits both alike. `--baseline none` measures the tree alone.
 *
 *   cd libs/bench && node --import tsx src/graph_overhead.ts [--turns 300] [--rounds 2] [--baseline <commit>|none]
 *     [--back-to-back] [--detail]
 *     [--embeddings static,use-lite-onnx,use-lite-tfjs]
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { MemorySaver } from "@langchain/langgraph";
import { Command } from "commander";
import { positiveInt } from "./cli_args.js";
import { StaticEmbeddings } from "../../engram/src/embeddings/static.js";
import { LocalEmbeddings } from "../../engram/src/embeddings/local.js";
import { startChromaServer } from "../../engram/src/store/chroma_server.js";
import type { Memory as MemoryClass } from "../../engram/src/memory/memory.js";
import type { createMemoryGraph as createGraph } from "../../engram/src/graph/agent.js";
import { loadLocomo, type Turn } from "./locomo/data.js";
import { MISSING_DATA_HELP, devConversations, findLocomoData } from "./locomo/data_path.js";
import { turnContent } from "./locomo/retrievers.js";
import { formatMachine, machineInfo } from "./machine.js";
import { NodeTimer, type NodeName } from "./node_timer.js";
import { log } from "./progress.js";
import { summarize, type LatencySummary } from "./stats.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The graph's nodes, as `createMemoryGraph` names them; the overhead is the memory nodes' sum. */
const MEMORY_NODES: NodeName[] = ["recall", "score", "remember", "consolidate"];
/** The commit this lane started from (session 6, before the turn was made faster). */
const DEFAULT_BASELINE = "f5710eb";
/** Turns replayed on another user before the timed rounds, so that both variants run JIT-warm code. */
const WARM_UP_TURNS = 30;

interface Params {
  data: string;
  conversation: string;
  turns: number;
  rounds: number;
  baseline: string;
  detail?: boolean;
  /** Comma-separated models; each source runs with each. */
  embeddings: string;
  backToBack?: boolean;
  /** `recallIndex.revisions` of both variants (an engram source from before it ignores it). */
  revisions?: string;
  /** LangGraph's `durability` of each run (default: LangGraph's, "async"). */
  durability?: "async" | "sync" | "exit";
  out: string;
}

/** An engram source tree, loaded in this process. */
interface Variant {
  name: string;
  Memory: typeof MemoryClass;
  createMemoryGraph: typeof createGraph;
  /** The variant's model, timed. */
  embeddings: TimedEmbeddings;
}

/** Models the bench can run (`--embeddings`): the static model, or USE-Lite on either runtime. */
const EMBEDDINGS = {
  static: () => new StaticEmbeddings(),
  "use-lite-onnx": () => new LocalEmbeddings({ runtime: "onnx" }),
  "use-lite-tfjs": () => new LocalEmbeddings({ runtime: "tfjs" }),
} as const;
type EmbeddingsKind = keyof typeof EMBEDDINGS;

/**
 * The chat model of the runs, no LLM: "OK." to every turn, with an id derived from the human
 * message's. (This file imports engram's source only, never its build, so it runs while the build
 * is being remade; graph_replay_parts.ts has a token-counting twin that imports the build.)
 */
class FakeChatModel extends BaseChatModel {
  constructor() {
    super({});
  }

  _llmType(): string {
    return "fake-overhead";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const human = [...messages].reverse().find((m) => m.getType() === "human");
    const message = new AIMessage({ content: "OK.", ...(typeof human?.id === "string" ? { id: `${human.id}-reply` } : {}) });
    return { generations: [{ text: "OK.", message }] };
  }
}

/** A model, timed: how long the turn spent in it. */
class TimedEmbeddings {
  readonly modelId: string;
  readonly dimensions = 512;
  ms = 0;
  texts = 0;

  constructor(private readonly inner: StaticEmbeddings | LocalEmbeddings) {
    this.modelId = inner.modelId;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    const t0 = performance.now();
    const vectors = await this.inner.embedDocuments(texts);
    this.ms += performance.now() - t0;
    this.texts += texts.length;
    return vectors;
  }

  async embedQuery(text: string): Promise<number[]> {
    return (await this.embedDocuments([text]))[0]!;
  }

  async close(): Promise<void> {
    if (this.inner instanceof LocalEmbeddings) await this.inner.close();
  }
}

/** Per-turn samples of one variant, over every round. */
class Samples {
  overhead: number[] = [];
  embedding: number[] = [];
  withoutEmbedding: number[] = [];
  cpu: number[] = [];
  runMinusModel: number[] = [];
  runCpuMinusModel: number[] = [];
  background: number[] = [];
  nodes = new Map<NodeName, number[]>();
  /** Wall time per turn in each Memory method the graph called (`--detail`). */
  calls = new Map<string, number[]>();
  load: number[] = [];
  /** Chroma requests made during the graph runs (`--detail`), by method and endpoint, over all turns. */
  chroma = new Map<string, number>();

  summary(): Record<string, LatencySummary> {
    return {
      "recall + score + remember + consolidate (wall)": summarize(this.overhead),
      "… of which in the static model": summarize(this.embedding),
      "… without the model": summarize(this.withoutEmbedding),
      "… CPU time of the process (user + system)": summarize(this.cpu),
      ...Object.fromEntries(MEMORY_NODES.map((n) => [`node ${n}`, summarize(this.nodes.get(n) ?? [])])),
      ...Object.fromEntries([...this.calls].map(([method, list]) => [`… in memory.${method}() (all calls of the turn)`, summarize(list)])),
      "graph run minus the model node": summarize(this.runMinusModel),
      "… CPU time of the process": summarize(this.runCpuMinusModel),
      "left to the background (memory.flush() after the turn)": summarize(this.background),
    };
  }
}

function parseArgs(argv: string[]): Params | undefined {
  const program = new Command()
    .name("graph-overhead")
    .description("The memory graph's overhead per turn with the static model, before (a git commit's engram source) and after (the working tree), in one process.")
    .option("--data <path>", "LoCoMo JSON (default: see src/locomo/data_path.ts)")
    .option("--conversation <id>", "the dev conversation replayed", "conv-26")
    .option("--turns <n>", "turns replayed per variant and round", positiveInt, 300)
    .option("--rounds <n>", "rounds; variants alternate their order from round to round", positiveInt, 2)
    .option("--baseline <commit>", "the 'before' engram source (a git commit), or none", DEFAULT_BASELINE)
    .option("--back-to-back", "no memory.flush() between turns: each turn starts while the last one's writes may still drain")
    // Both variants share one server by url, where Memory's "auto" would read Chroma's revisions; a
    // `new Memory()` on its data folder's own server reads the state's: the default here too.
    .option("--revisions <source>", "recallIndex.revisions of both variants: state (the shared state's, what a Memory on its own server reads), store (Chroma's)", "state")
    .option("--durability <mode>", "LangGraph's durability of each run: async (its default), sync or exit")
    .option("--embeddings <list>", "models, comma-separated, each run with each source: static, use-lite-onnx, use-lite-tfjs", "static")
    .option("--detail", "also time each Memory method the graph calls (search, getAll, add) per turn")
    .option("--out <dir>", "folder for graph-overhead.json", "bench-results")
    .parse(argv);
  const o = program.opts<Omit<Params, "data"> & { data?: string }>();
  const data = findLocomoData(o.data);
  if (data === undefined && o.data !== undefined) program.error(`LoCoMo data not found at ${resolve(o.data)}.`);
  if (data === undefined) return undefined;
  return { ...o, data, out: resolve(o.out) };
}

async function loadVariant(name: string, srcDir: string, embeddings: TimedEmbeddings): Promise<Variant> {
  const url = (file: string) => pathToFileURL(join(srcDir, file)).href;
  const memory = (await import(url("memory/memory.ts"))) as { Memory: typeof MemoryClass };
  const graph = (await import(url("graph/agent.ts"))) as { createMemoryGraph: typeof createGraph };
  return { name, Memory: memory.Memory, createMemoryGraph: graph.createMemoryGraph, embeddings };
}

/** The engram source of `commit`, in a temporary folder that resolves packages from this repository. */
async function extractBaseline(commit: string, dir: string): Promise<string> {
  const archive = execFileSync("git", ["-C", REPO_ROOT, "archive", commit, "libs/engram/src", "libs/engram/package.json"], { maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  await symlink(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  return join(dir, "libs/engram/src");
}

interface RunContext {
  chromaUrl: string;
  tmpDir: string;
  detail: boolean;
  /** Skip the flush after each turn (the background row then times nothing). */
  backToBack: boolean;
  revisions?: string;
  durability?: Params["durability"];
}

const TIMED_METHODS = ["search", "getAll", "add"] as const;

/**
 * Counts the HTTP requests this process sends to Chroma while `counting` is set (`--detail`): the
 * client calls `globalThis.fetch` per request, so one wrapper sees every variant's calls. Keyed
 * by method and the path's last segment (`POST get`, `POST upsert`, `GET count`...).
 */
const chromaRequests = { counting: false, seen: new Map<string, number>() };

function countChromaRequests(): void {
  const original = globalThis.fetch;
  globalThis.fetch = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    if (chromaRequests.counting) {
      const request = input instanceof Request ? input : undefined;
      const url = request ? request.url : String(input);
      const method = init?.method ?? request?.method ?? "GET";
      const segment = new URL(url).pathname.split("/").filter(Boolean).pop() ?? "";
      // A collection's id or name (engram's start with the run's prefix) stands for any collection.
      const key = `${method} ${/^[0-9a-f-]{36}$/.test(segment) || segment.startsWith("overhead-") ? "<collection>" : segment}`;
      chromaRequests.seen.set(key, (chromaRequests.seen.get(key) ?? 0) + 1);
    }
    return original(input, init);
  };
}

/** Wraps the instance's methods so that each turn's time in them adds up in `spent`. */
function timeMethods(memory: MemoryClass, spent: Map<string, number>): void {
  const target = memory as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of TIMED_METHODS) {
    const original = target[method]!.bind(memory);
    target[method] = async (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return await original(...args);
      } finally {
        spent.set(method, (spent.get(method) ?? 0) + performance.now() - t0);
      }
    };
  }
}

let runs = 0;

/** Replays `turns` through a fresh Memory and graph of `variant`; adds each turn's figures to `samples` (when given). */
async function replay(ctx: RunContext, variant: Variant, userId: string, turns: readonly Turn[], samples?: Samples): Promise<void> {
  let now = 0;
  const index = runs++;
  const memory = new variant.Memory({
    dataDir: await mkdtemp(join(ctx.tmpDir, `overhead-${index}-`)),
    chroma: { url: ctx.chromaUrl },
    embeddings: variant.embeddings,
    clock: () => now,
    prefix: `overhead-${index}`,
    writes: "background",
    ...(ctx.revisions === undefined ? {} : { recallIndex: { revisions: ctx.revisions as "state" | "store" } }),
  });
  const graph = variant.createMemoryGraph({
    memory,
    model: new FakeChatModel(),
    checkpointer: new MemorySaver(),
    onWarning: (message) => log(`warning (${variant.name}): ${message}`),
  });
  const timer = new NodeTimer();
  const spent = new Map<string, number>();
  if (ctx.detail) timeMethods(memory, spent);
  let session = -1;
  let position = 0;
  try {
    for (const turn of turns) {
      position = turn.session === session ? position + 1 : 0;
      session = turn.session;
      now = turn.date + position * 1_000;
      timer.reset();
      spent.clear();
      variant.embeddings.ms = 0;
      chromaRequests.seen.clear();
      chromaRequests.counting = samples !== undefined && ctx.detail;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await graph.invoke(
        { messages: [new HumanMessage({ content: turnContent(turn), id: `${turn.diaId}` })] },
        {
          configurable: { user_id: userId, thread_id: `${userId}-session-${turn.session}` },
          callbacks: [timer],
          ...(ctx.durability === undefined ? {} : { durability: ctx.durability }),
        },
      );
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      chromaRequests.counting = false;
      for (const [key, n] of chromaRequests.seen) samples?.chroma.set(key, (samples.chroma.get(key) ?? 0) + n);
      const modelMs = variant.embeddings.ms;
      const calls = new Map(spent);
      const b0 = performance.now();
      if (!ctx.backToBack) await memory.flush();
      const background = performance.now() - b0;
      if (!samples) continue;
      const overhead = MEMORY_NODES.reduce((sum, n) => sum + (timer.times[n] ?? 0), 0);
      samples.overhead.push(overhead);
      samples.embedding.push(modelMs);
      samples.withoutEmbedding.push(overhead - modelMs);
      samples.cpu.push(MEMORY_NODES.reduce((sum, n) => sum + (timer.cpu[n] ?? 0), 0));
      samples.runMinusModel.push(wall - (timer.times.model ?? 0));
      samples.runCpuMinusModel.push((cpu.user + cpu.system) / 1000 - (timer.cpu.model ?? 0));
      samples.background.push(background);
      for (const method of ctx.detail ? TIMED_METHODS : []) {
        const list = samples.calls.get(method) ?? [];
        list.push(calls.get(method) ?? 0);
        samples.calls.set(method, list);
      }
      for (const n of MEMORY_NODES) {
        if (timer.times[n] === undefined) continue;
        const list = samples.nodes.get(n) ?? [];
        list.push(timer.times[n]!);
        samples.nodes.set(n, list);
      }
    }
    samples?.load.push(loadavg()[0]!);
  } finally {
    await memory.close();
  }
}

const fmt = (ms: number) => (Number.isNaN(ms) ? "–" : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

function table(results: Array<{ variant: string; summary: Record<string, LatencySummary> }>): string {
  const rows = Object.keys(results[0]!.summary);
  const lines = [
    `| per turn (ms) | ${results.map((r) => `${r.variant} p50 / p95 / p99`).join(" | ")} |${results.length === 2 ? " after/before p50, p95 |" : ""}`,
    `|---|${results.map(() => "---:|").join("")}${results.length === 2 ? "---:|" : ""}`,
  ];
  for (const row of rows) {
    const cells = results.map((r) => {
      const s = r.summary[row]!;
      return `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.p99)}`;
    });
    let ratio = "";
    if (results.length === 2) {
      const [b, a] = [results[0]!.summary[row]!, results[1]!.summary[row]!];
      ratio = ` ${(a.p50 / b.p50).toFixed(2)}, ${(a.p95 / b.p95).toFixed(2)} |`;
    }
    lines.push(`| ${row} | ${cells.join(" | ")} |${ratio}`);
  }
  return lines.join("\n");
}

/** Chroma requests per turn during the graph run (drains started by the turn's writes included), per variant. */
function chromaTable(rows: Array<{ variant: string; seen: Map<string, number>; turns: number }>): string {
  const keys = [...new Set(rows.flatMap((r) => [...r.seen.keys()]))].sort();
  const total = (seen: Map<string, number>) => [...seen.values()].reduce((a, b) => a + b, 0);
  const lines = [
    `| Chroma requests per turn, during the run | ${rows.map((r) => r.variant).join(" | ")} |`,
    `|---|${rows.map(() => "---:|").join("")}`,
    ...keys.map((key) => `| ${key} | ${rows.map((r) => ((r.seen.get(key) ?? 0) / r.turns).toFixed(2)).join(" | ")} |`),
    `| all | ${rows.map((r) => (total(r.seen) / r.turns).toFixed(2)).join(" | ")} |`,
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const params = parseArgs(process.argv);
  if (!params) {
    log(MISSING_DATA_HELP);
    return;
  }
  const started = performance.now();
  const loadStart = loadavg();
  const conv = devConversations(await loadLocomo(params.data)).find((c) => c.sampleId === params.conversation);
  if (!conv) throw new Error(`no conversation ${params.conversation} in ${params.data}`);
  const turns = conv.turns.slice(0, params.turns);
  const tmpDir = await mkdtemp(join(tmpdir(), "engram-bench-overhead-"));
  const server = await startChromaServer({ path: join(tmpDir, "chroma") });
  try {
    const kinds = params.embeddings.split(",").map((kind) => kind.trim());
    for (const kind of kinds) if (!(kind in EMBEDDINGS)) throw new Error(`--embeddings: ${Object.keys(EMBEDDINGS).join(", ")}, got ${kind}`);
    const models = new Map<string, TimedEmbeddings>();
    for (const kind of kinds) {
      const model = new TimedEmbeddings(EMBEDDINGS[kind as EmbeddingsKind]());
      await model.embedDocuments(["warm-up"]); // loads the model (a worker's, for USE-Lite)
      models.set(kind, model);
    }
    const sources: Array<[string, string]> = [];
    if (params.baseline !== "none") sources.push([`before (${params.baseline})`, await extractBaseline(params.baseline, await mkdtemp(join(tmpDir, "baseline-")))]);
    sources.push(["after (working tree)", join(REPO_ROOT, "libs/engram/src")]);
    const variants: Variant[] = [];
    for (const [name, dir] of sources) {
      for (const [kind, model] of models) variants.push(await loadVariant(kinds.length > 1 ? `${name}, ${kind}` : name, dir, model));
    }
    if (params.detail) countChromaRequests();
    const ctx: RunContext = { chromaUrl: server.url, tmpDir, detail: params.detail === true, backToBack: params.backToBack === true, ...(params.revisions === undefined ? {} : { revisions: params.revisions }), ...(params.durability === undefined ? {} : { durability: params.durability }) };
    if (params.durability !== undefined && !["async", "sync", "exit"].includes(params.durability)) throw new Error(`--durability: async, sync or exit, got ${params.durability}`);
    if (params.revisions !== undefined && params.revisions !== "state" && params.revisions !== "store") throw new Error(`--revisions: state or store, got ${params.revisions}`);
    log(`Graph overhead: ${turns.length} turns of ${conv.sampleId} x ${params.rounds} rounds, ${variants.map((v) => v.name).join(" vs ")}; load ${loadStart.map((l) => l.toFixed(1)).join(" ")}`);
    for (const v of variants) await replay(ctx, v, "warm-up", conv.turns.slice(0, WARM_UP_TURNS));
    const samples = variants.map(() => new Samples());
    for (let round = 0; round < params.rounds; round += 1) {
      const order = variants.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const t0 = performance.now();
        await replay(ctx, variants[i]!, `${conv.sampleId}-r${round}`, turns, samples[i]);
        const s = summarize(samples[i]!.overhead.slice(-turns.length));
        log(`round ${round + 1} ${variants[i]!.name}: overhead p50 ${fmt(s.p50)} / p95 ${fmt(s.p95)} ms (${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg()[0]!.toFixed(1)})`);
      }
    }
    const results = variants.map((v, i) => ({
      variant: v.name,
      summary: samples[i]!.summary(),
      meanLoad1m: samples[i]!.load.reduce((a, b) => a + b, 0) / samples[i]!.load.length,
    }));
    const machine = machineInfo();
    const requests = params.detail ? chromaTable(variants.map((v, i) => ({ variant: v.name, seen: samples[i]!.chroma, turns: samples[i]!.overhead.length }))) : "";
    const markdown = [
      `Graph overhead per turn, ${kinds.join(" and ")}: ${turns.length} turns of ${conv.sampleId} x ${params.rounds} rounds per variant${params.backToBack ? ", back to back (no flush between turns)" : ""}`,
      `(${formatMachine(machine)}; load average 1 min at start ${loadStart[0]!.toFixed(1)}, end ${loadavg()[0]!.toFixed(1)}, cores ${machine.cpus})`,
      "",
      table(results),
      ...(requests ? ["", requests] : []),
    ].join("\n");
    await mkdir(params.out, { recursive: true });
    const file = join(params.out, "graph-overhead.json");
    const args = process.argv.slice(2).join(" ");
    // title, command, machine, order and markdown: the report generator's convention (report/main.ts).
    const report = {
      title: `The graph's overhead per turn (${kinds.join(", ")}), ${sources.map(([name]) => name).join(" and ")}`,
      command: `cd libs/bench && node --import tsx src/graph_overhead.ts${args ? ` ${args}` : ""}`,
      order: 16,
      machine,
      params,
      loadStart,
      loadEnd: loadavg(),
      results,
      markdown,
    };
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n${markdown}\n\n`);
    log(`Wrote ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    for (const model of models.values()) await model.close();
  } finally {
    await server.stop();
    await rm(tmpDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`graph-overhead failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
