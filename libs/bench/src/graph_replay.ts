/**
 * LoCoMo replayed through the memory graph as live turns (issue 5, "Must show").
 *
 * Each conversation is one user, each session one thread; every turn enters `createMemoryGraph`
 * as a human message `<speaker>: <text>` and a scripted model (no LLM) answers "OK.". Measured:
 * - prompt tokens the model received (system prompt + messages, `countTokens`) against the tokens
 *   of the whole conversation so far (what a model without memory would be sent);
 * - the graph's own cost per turn: recall + score + remember + consolidate, timed node by node
 *   from LangGraph's callbacks, with the local embeddings (each text embedded when asked);
 * - the importance edge's cost: after the replay, LoCoMo's questions go to `memory.search`, and the
 *   top-k records (episodes and summaries, mapped back to the turns they cover) are scored with the
 *   suite's recall@k, for the default threshold against storing every turn (threshold 0).
 *
 *   node --import tsx src/graph_replay.ts [--conversations 1] [--thresholds 0.3,0,0.5]
 */
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { Command, InvalidArgumentError } from "commander";
import { positiveInt } from "./cli_args.js";
import { LocalEmbeddings, StaticEmbeddings, Memory, type MemoryRecord } from "engram";
import { createMemoryGraph, DEFAULT_IMPORTANCE_THRESHOLD, DEFAULT_SYSTEM_PROMPT } from "engram/graph";
import { countTokens } from "engram/working";
import {
  coverage,
  scoreRecords,
  summarizeTokens,
  turnMessageId,
  type TurnTokens,
} from "./graph_replay_metric.js";
import { NodeTimer, ReplayEmbeddings, SCRIPTED_REPLY, ScriptedModel, type NodeName } from "./graph_replay_parts.js";
import { pct, renderMarkdown, type ConversationTokens, type Report, type Timing, type VariantResult } from "./graph_replay_report.js";
import { loadLocomo, type Conversation } from "./locomo/data.js";
import { MISSING_DATA_HELP, devConversations, findLocomoData } from "./locomo/data_path.js";
import { DEFAULT_KS, aggregate, type QuestionScore } from "./locomo/metric.js";
import { turnContent } from "./locomo/retrievers.js";
import { formatMachine, machineInfo } from "./machine.js";
import { Scratch } from "./scratch.js";
import { log, progressBar } from "./progress.js";
import { formatMs, summarize } from "./stats.js";

const KS = [...DEFAULT_KS];
const MAX_K = Math.max(...KS);
/** The graph's memory nodes: the overhead of a turn is their sum (the model node is left out). */
const MEMORY_NODES: NodeName[] = ["recall", "score", "remember", "consolidate"];
/** Turn lengths (words of the message) by which the overhead is also reported: the model's cost grows with them. */
const LENGTH_BANDS = [
  { label: "1-10 words", maxWords: 10 },
  { label: "11-20 words", maxWords: 20 },
  { label: "21-40 words", maxWords: 40 },
  { label: "over 40 words", maxWords: Number.POSITIVE_INFINITY },
];
/** Thresholds at which the share of turns scored at or above is reported. */
const IMPORTANCE_GRID = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6];

interface Params {
  data: string;
  conversations?: number;
  /** Only the first n turns of each conversation, and the questions whose evidence lies in them (smoke runs, profiling). */
  maxTurns?: number;
  /** Importance thresholds, one replay each; the first is the timed one. */
  thresholds: number[];
  /** Embedding model: the default static one, or USE-Lite (the issue's "before"). */
  model: "static" | "use-lite";
  out: string;
  /** Do not run: re-render the markdown of an earlier graph-replay.json, in place. */
  fromJson?: string;
}

/** Per-turn cost of a replay (ms). */
function threshold(value: string): number {
  const n = value.trim() === "default" ? DEFAULT_IMPORTANCE_THRESHOLD : Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`thresholds are numbers from 0 to 1 (or "default"), got ${JSON.stringify(value)}.`);
  return n;
}

/** The parsed options, or undefined when no data file was asked for and none is found (a skip, not a failure). */
function parseArgs(argv: string[]): Params | undefined {
  const program = new Command()
    .name("graph-replay")
    .description("LoCoMo replayed through the memory graph: prompt tokens, per-turn overhead, and the importance edge's cost in recall@k.")
    .option("--data <path>", "LoCoMo JSON (default: see src/locomo/data_path.ts)")
    .option("--conversations <n>", "only the first n conversations (quick runs)", positiveInt)
    .option("--model <name>", "embedding model: static (the default) or use-lite", (v) => {
      if (v !== "static" && v !== "use-lite") throw new InvalidArgumentError("static or use-lite");
      return v;
    }, "static")
    .option("--max-turns <n>", "only the first n turns of each conversation and the questions they answer (smoke runs)", positiveInt)
    .option(
      "--thresholds <list>",
      "importance thresholds, one replay each, comma-separated (\"default\" = the graph's); the first is timed",
      (v) => [...new Set(v.split(",").filter((s) => s.trim() !== "").map(threshold))],
      [DEFAULT_IMPORTANCE_THRESHOLD, 0],
    )
    .option("--out <dir>", "folder for graph-replay.json", "bench-results")
    .option("--from-json <file>", "do not run: re-render the markdown of an earlier graph-replay.json, in place")
    .parse(argv);
  const o = program.opts<Omit<Params, "data"> & { data?: string }>();
  if (o.thresholds.length === 0) program.error("--thresholds is empty.");
  const data = findLocomoData(o.data);
  if (data === undefined && o.data !== undefined) program.error(`LoCoMo data not found at ${resolve(o.data)} (see --data).`);
  if (data === undefined && !o.fromJson) return undefined;
  return { ...o, data: data ?? "", out: resolve(o.out) };
}

interface RunContext {
  chromaUrl: string;
  tmpDir: string;
  embeddings: ReplayEmbeddings;
}

/** Milliseconds per node and per turn, collected over a timed replay. */
class TimingSamples {
  overhead: number[] = [];
  forgetTurns: number[] = [];
  otherTurns: number[] = [];
  embedding: number[] = [];
  withoutEmbedding: number[] = [];
  texts = 0;
  cpu: number[] = [];
  runMinusModel: number[] = [];
  nodes = new Map<NodeName, number[]>();
  background: number[] = [];
  backgroundEmbedding: number[] = [];
  backgroundTexts = 0;

  /** What a turn left to the background: `memory.flush()` after the run, and the model's share of it. */
  addBackground(ms: number, embedded: { modelMs: number; texts: number }): void {
    this.background.push(ms);
    this.backgroundEmbedding.push(embedded.modelMs);
    this.backgroundTexts += embedded.texts;
  }

  /** Overhead and model time of the turns, by the length of the turn's message in words. */
  byLength = LENGTH_BANDS.map(() => ({ overhead: [] as number[], embedding: [] as number[] }));

  add(timer: NodeTimer, embedded: { modelMs: number; texts: number }, wall: number, forgot: boolean, words: number): void {
    const sum = (parts: Partial<Record<NodeName, number>>) => MEMORY_NODES.reduce((total, node) => total + (parts[node] ?? 0), 0);
    const overhead = sum(timer.times);
    this.overhead.push(overhead);
    const band = this.byLength[LENGTH_BANDS.findIndex((b) => words <= b.maxWords)]!;
    band.overhead.push(overhead);
    band.embedding.push(embedded.modelMs);
    (forgot ? this.forgetTurns : this.otherTurns).push(overhead);
    this.embedding.push(embedded.modelMs);
    this.withoutEmbedding.push(overhead - embedded.modelMs);
    this.texts += embedded.texts;
    this.cpu.push(sum(timer.cpu));
    this.runMinusModel.push(wall - (timer.times.model ?? 0));
    for (const [node, ms] of Object.entries(timer.times) as Array<[NodeName, number]>) {
      const list = this.nodes.get(node) ?? [];
      list.push(ms);
      this.nodes.set(node, list);
    }
  }

  summary(): Timing {
    return {
      overhead: summarize(this.overhead),
      overheadForgetTurns: summarize(this.forgetTurns),
      overheadOtherTurns: summarize(this.otherTurns),
      embedding: summarize(this.embedding),
      overheadWithoutEmbedding: summarize(this.withoutEmbedding),
      textsPerTurn: this.texts / Math.max(1, this.overhead.length),
      cpu: summarize(this.cpu),
      runMinusModel: summarize(this.runMinusModel),
      nodes: Object.fromEntries([...this.nodes].map(([node, list]) => [node, summarize(list)])),
      background: summarize(this.background),
      backgroundEmbedding: summarize(this.backgroundEmbedding),
      backgroundTextsPerTurn: this.backgroundTexts / Math.max(1, this.background.length),
      byLength: LENGTH_BANDS.map((b, i) => ({
        band: b.label,
        overhead: summarize(this.byLength[i]!.overhead),
        embedding: summarize(this.byLength[i]!.embedding),
      })),
    };
  }
}

/** One replay of the conversations at one threshold, then the questions. */
async function runVariant(ctx: RunContext, convs: Conversation[], thresholdValue: number, index: number, timed: boolean): Promise<VariantResult> {
  let now = 0;
  let warnings = 0;
  const memory = new Memory({
    dataDir: await mkdtemp(join(ctx.tmpDir, `replay-${index}-`)),
    chroma: { url: ctx.chromaUrl },
    embeddings: ctx.embeddings,
    clock: () => now,
    prefix: `graph-replay-${index}`,
    writes: "background",
  });
  const model = new ScriptedModel();
  const graph = createMemoryGraph({
    memory,
    model,
    importanceThreshold: thresholdValue,
    checkpointer: new MemorySaver(),
    onWarning: (message) => {
      if (warnings++ < 3) log(`warning (threshold ${thresholdValue}): ${message}`);
    },
  });
  const timer = new NodeTimer();
  const samples = new TimingSamples();
  const label = `threshold ${thresholdValue}${timed ? " (timed)" : ""}`;
  const bar = progressBar(`${label}: turns`, convs.reduce((n, c) => n + c.turns.length, 0));
  const scores: QuestionScore[] = [];
  const queryLatencies: number[] = [];
  const tokens: ConversationTokens[] = [];
  const records: Record<string, number> = {};
  let stored = 0;
  const importances: number[] = [];
  let covered = 0;
  let turns = 0;
  let replayMs = 0;
  const systemTokens = countTokens([new SystemMessage(DEFAULT_SYSTEM_PROMPT)]);
  const replyTokens = countTokens([new AIMessage(SCRIPTED_REPLY)]);
  try {
    for (const conv of convs) {
      ctx.embeddings.reuse = !timed;
      const perTurn: TurnTokens[] = [];
      let history = systemTokens;
      let session = -1;
      let position = 0;
      const started = performance.now();
      for (const turn of conv.turns) {
        position = turn.session === session ? position + 1 : 0;
        session = turn.session;
        now = turn.date + position * 1_000;
        const human = new HumanMessage({ content: turnContent(turn), id: turnMessageId(turn.diaId) });
        history += countTokens([human]);
        timer.reset();
        ctx.embeddings.resetTurn();
        const t0 = performance.now();
        const state = await graph.invoke(
          { messages: [human] },
          { configurable: { user_id: conv.sampleId, thread_id: `${conv.sampleId}-session-${turn.session}` }, callbacks: [timer] },
        );
        const wall = performance.now() - t0;
        if (state.importance >= thresholdValue) stored++;
        importances.push(state.importance);
        samples.add(timer, ctx.embeddings.turn, wall, state.turnsSinceForget === 0, turn.text.split(/\s+/).filter(Boolean).length);
        // What the turn left to the background (embedding and storing its records, a forgetting
        // pass) finishes before the next message, as it does while a user reads the reply.
        ctx.embeddings.resetTurn();
        const b0 = performance.now();
        await memory.flush();
        samples.addBackground(performance.now() - b0, ctx.embeddings.turn);
        perTurn.push({ engram: model.lastPromptTokens, full: history });
        history += replyTokens;
        bar.increment();
      }
      replayMs += performance.now() - started;
      turns += conv.turns.length;
      tokens.push({ sampleId: conv.sampleId, sessions: new Set(conv.turns.map((t) => t.session)).size, ...summarizeTokens(perTurn) });

      ctx.embeddings.reuse = true;
      for (const question of conv.questions) {
        const t0 = performance.now();
        const hits = await memory.search(question.question, { userId: conv.sampleId, limit: MAX_K });
        queryLatencies.push(performance.now() - t0);
        scores.push(scoreRecords(question.category, question.evidence, hits, KS));
      }
      const all: MemoryRecord[] = await memory.getAll({ userId: conv.sampleId, limit: 10_000 });
      for (const record of all) records[record.kind] = (records[record.kind] ?? 0) + 1;
      covered += coverage(all, conv.turns.map((t) => t.diaId)) * conv.turns.length;
    }
  } finally {
    bar.stop();
    await memory.close();
  }
  const result: VariantResult = {
    threshold: thresholdValue,
    isDefault: thresholdValue === DEFAULT_IMPORTANCE_THRESHOLD,
    turns,
    stored,
    importanceAtOrAbove: Object.fromEntries(IMPORTANCE_GRID.map((t) => [String(t), importances.filter((v) => v >= t).length / Math.max(1, turns)])),
    covered: covered / Math.max(1, turns),
    records,
    scores: aggregate(scores, KS),
    query: summarize(queryLatencies),
    tokens,
    replaySeconds: replayMs / 1000,
    timing: samples.summary(),
    timed,
    warnings,
  };
  log(
    `${label}: stored ${pct(stored / Math.max(1, turns))}% of turns, R@10 ${pct(result.scores.overall.recall[10])}` +
      `, overhead p50 ${formatMs(result.timing.overhead.p50)} / p95 ${formatMs(result.timing.overhead.p95)} ms` +
      ` (${timed ? "" : "embeddings reused; "}per node p95: ${Object.entries(result.timing.nodes).map(([n, l]) => `${n} ${formatMs(l.p95)}`).join(", ")})` +
      ` (replay ${result.replaySeconds.toFixed(0)} s)`,
  );
  return result;
}

/** The first `maxTurns` turns of a conversation and the questions whose evidence lies in them. */
function cut(conv: Conversation, maxTurns: number | undefined): Conversation {
  if (maxTurns === undefined || maxTurns >= conv.turns.length) return conv;
  const turns = conv.turns.slice(0, maxTurns);
  const kept = new Set(turns.map((t) => t.diaId));
  return { ...conv, turns, questions: conv.questions.filter((q) => q.evidence.every((id) => kept.has(id))) };
}

async function main(): Promise<void> {
  const params = parseArgs(process.argv);
  if (!params) {
    log(MISSING_DATA_HELP);
    return;
  }
  if (params.fromJson) {
    const file = resolve(params.fromJson);
    const { markdown: _old, ...rest } = JSON.parse(await readFile(file, "utf8")) as Report;
    const report: Report = { ...rest, markdown: renderMarkdown(rest) };
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${report.markdown}\n`);
    log(`Re-rendered ${file}`);
    return;
  }
  const started = performance.now();
  const machine = machineInfo();
  const loadAverage = loadavg();
  const all = devConversations(await loadLocomo(params.data));
  const convs = (params.conversations ? all.slice(0, params.conversations) : all).map((c) => cut(c, params.maxTurns));
  const turns = convs.reduce((n, c) => n + c.turns.length, 0);
  log(`Graph replay: ${convs.length} conversations, ${turns} turns, thresholds ${params.thresholds.join(", ")}; load ${loadAverage.map((l) => l.toFixed(1)).join(" ")}`);

  const scratch = await Scratch.open("engram-bench-graph-replay-");
  const tmpDir = scratch.dir;

  try {
    const server = await scratch.startServer();
    log(`Chroma at ${server.url}`);
    const embeddings = new ReplayEmbeddings(params.model === "static" ? new StaticEmbeddings() : new LocalEmbeddings());
    // Load the model before the timed replay: its first call reads the weights.
    await embeddings.embedDocuments(["warm-up"]);
    const ctx: RunContext = { chromaUrl: server.url, tmpDir, embeddings };

    const variants: VariantResult[] = [];
    for (const [index, value] of params.thresholds.entries()) variants.push(await runVariant(ctx, convs, value, index, index === 0));

    const { out, fromJson: _fromJson, ...parameters } = params;
    const args = process.argv.slice(2).join(" ");
    const key = (v: VariantResult) => String(v.threshold);
    const partial: Omit<Report, "markdown"> = {
      title: "LoCoMo replayed through the memory graph",
      command: `corepack yarn workspace engram-bench graph-replay${args ? ` ${args}` : ""}`,
      machine,
      order: 15,
      benchmarkId: "graph_replay",
      parameters: { ...parameters, ks: KS, defaultThreshold: DEFAULT_IMPORTANCE_THRESHOLD, loadAverage },
      dataset: {
        conversations: convs.map((c) => c.sampleId),
        turns,
        sessions: convs.reduce((n, c) => n + new Set(c.turns.map((t) => t.session)).size, 0),
        questions: convs.reduce((n, c) => n + c.questions.length, 0),
      },
      figures: {
        maxLastTurnRatio: Math.max(...variants[0]!.tokens.map((t) => t.lastRatio)),
        overheadP50Ms: variants[0]!.timing!.overhead.p50,
        overheadP95Ms: variants[0]!.timing!.overhead.p95,
        recallAt10: Object.fromEntries(variants.map((v) => [key(v), v.scores.overall.recall[10]!])),
        storedShare: Object.fromEntries(variants.map((v) => [key(v), v.stored / Math.max(1, v.turns)])),
      },
      variants,
      embeddings: {
        model:
          params.model === "static"
            ? "engram StaticEmbeddings (static model distilled from USE-Lite, 512-d; the default)"
            : "engram LocalEmbeddings (Universal Sentence Encoder Lite, 512-d)",
        ...embeddings.stats,
      },
      loadAverageEnd: loadavg(),
      totalSeconds: (performance.now() - started) / 1000,
    };
    const report: Report = { ...partial, markdown: renderMarkdown(partial) };
    await mkdir(out, { recursive: true });
    const file = join(out, "graph-replay.json");
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n${report.markdown}\n`);
    log(`Wrote ${file} (${report.totalSeconds.toFixed(0)} s); machine: ${formatMachine(machine)}`);
  } finally {
    await scratch.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`graph-replay failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
