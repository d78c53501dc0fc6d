/**
 * Does the graph keep what matters (issue 15, item 3)? LoCoMo replayed three ways in one process,
 * one Chroma server, the same embeddings (each text embedded once, then reused), the same clock:
 * - `add`: plain `Memory.add` of every turn (the human message, with its id), nothing else;
 * - `graph`: `createMemoryGraph` with its defaults, one thread per session, as src/graph_replay.ts;
 * - `graph + endSession`: the same, and `graph.endSession(config)` when a session's thread ends
 *   (the next session starts, or the conversation ends): its window is consolidated.
 * Then each conversation's questions go to `memory.search` and the top-k records are scored by the
 * turns they cover (graph_replay_metric.ts). Prompt tokens: the model's prompt at the last turn
 * against the whole conversation so far.
 *
 *   node --import tsx src/graph_replay_sessions.ts [--conversations 2] [--out bench-results]
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { Command, InvalidArgumentError } from "commander";
import { Memory, StaticEmbeddings, type MemoryRecord } from "engram";
import { createMemoryGraph, DEFAULT_SYSTEM_PROMPT } from "engram/graph";
import { countTokens } from "engram/working";
import { coverage, scoreRecords, summarizeTokens, turnMessageId, type TurnTokens } from "./graph_replay_metric.js";
import { ReplayEmbeddings, SCRIPTED_REPLY, ScriptedModel } from "./graph_replay_parts.js";
import { CATEGORIES, CATEGORY_IDS, loadLocomo, type Conversation } from "./locomo/data.js";
import { MISSING_DATA_HELP, devConversations, findLocomoData } from "./locomo/data_path.js";
import { DEFAULT_KS, aggregate, type QuestionScore, type Scores } from "./locomo/metric.js";
import { turnContent } from "./locomo/retrievers.js";
import { machineInfo } from "./machine.js";
import { log, progressBar } from "./progress.js";
import { Scratch } from "./scratch.js";

const KS = [...DEFAULT_KS];
const MAX_K = Math.max(...KS);
type Mode = "add" | "graph" | "graph-end";
const MODES: Record<Mode, string> = {
  add: "plain `Memory.add` of every turn",
  graph: "graph (defaults), sessions left as they end",
  "graph-end": "graph (defaults) + `graph.endSession` when a session ends",
};

interface Result {
  mode: Mode;
  scores: Scores;
  records: Record<string, number>;
  covered: number;
  /** Worst last-turn ratio of prompt tokens to the full history (graph modes). */
  maxLastRatio?: number;
  seconds: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer.");
  return n;
}

async function replay(mode: Mode, convs: Conversation[], chromaUrl: string, tmpDir: string, embeddings: ReplayEmbeddings, threshold?: number, forgetEvery?: number): Promise<Result> {
  let now = 0;
  const memory = new Memory({
    dataDir: await mkdtemp(join(tmpDir, `${mode}-`)),
    chroma: { url: chromaUrl },
    embeddings,
    clock: () => now,
    prefix: `sessions-${mode}`,
    writes: "background",
  });
  const model = new ScriptedModel();
  const graph = createMemoryGraph({ memory, model, checkpointer: new MemorySaver(), onWarning: () => {}, ...(threshold !== undefined ? { importanceThreshold: threshold } : {}), ...(forgetEvery !== undefined ? { forgetEvery } : {}) });
  const started = performance.now();
  const scores: QuestionScore[] = [];
  const records: Record<string, number> = {};
  let covered = 0;
  let turns = 0;
  let maxLastRatio = 0;
  const systemTokens = countTokens([new SystemMessage(DEFAULT_SYSTEM_PROMPT)]);
  const replyTokens = countTokens([new AIMessage(SCRIPTED_REPLY)]);
  const bar = progressBar(`${mode}: turns`, convs.reduce((n, c) => n + c.turns.length, 0));
  try {
    for (const conv of convs) {
      const perTurn: TurnTokens[] = [];
      let history = systemTokens;
      let session = -1;
      let position = 0;
      const configOf = (s: number) => ({ configurable: { user_id: conv.sampleId, thread_id: `${conv.sampleId}-session-${s}` } });
      for (const turn of conv.turns) {
        if (turn.session !== session && session !== -1 && mode === "graph-end") await graph.endSession(configOf(session));
        position = turn.session === session ? position + 1 : 0;
        session = turn.session;
        now = turn.date + position * 1_000;
        const human = new HumanMessage({ content: turnContent(turn), id: turnMessageId(turn.diaId) });
        history += countTokens([human]);
        if (mode === "add") {
          await memory.add([human], { userId: conv.sampleId, threadId: configOf(session).configurable.thread_id });
        } else {
          await graph.invoke({ messages: [human] }, configOf(session));
          perTurn.push({ engram: model.lastPromptTokens, full: history });
          history += replyTokens;
        }
        await memory.flush();
        bar.increment();
      }
      if (mode === "graph-end" && session !== -1) await graph.endSession(configOf(session));
      await memory.flush();
      turns += conv.turns.length;
      if (perTurn.length) maxLastRatio = Math.max(maxLastRatio, summarizeTokens(perTurn).lastRatio);
      for (const question of conv.questions) {
        const hits = await memory.search(question.question, { userId: conv.sampleId, limit: MAX_K });
        scores.push(scoreRecords(question.category, question.evidence, hits, KS));
      }
      const all: MemoryRecord[] = await memory.getAll({ userId: conv.sampleId, limit: 10_000 });
      for (const record of all) records[record.kind] = (records[record.kind] ?? 0) + 1;
      covered += coverage(all, conv.turns.map((t) => t.diaId)) * conv.turns.length;
    }
  } finally {
    bar.stop();
    graph.cancelIdle();
    await memory.close();
  }
  const result: Result = {
    mode,
    scores: aggregate(scores, KS),
    records,
    covered: covered / Math.max(1, turns),
    ...(mode === "add" ? {} : { maxLastRatio }),
    seconds: (performance.now() - started) / 1000,
  };
  log(`${MODES[mode]}: R@10 ${pct(result.scores.overall.recall[10])} (${result.seconds.toFixed(0)} s)`);
  return result;
}

function pct(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? (x * 100).toFixed(1) : "n/a";
}

function markdown(results: Result[], convs: Conversation[], threshold: number | undefined): string {
  const add = results.find((r) => r.mode === "add");
  const cats = CATEGORY_IDS.map((c) => `${CATEGORIES[c]} R@10`);
  const lines = [
    `${convs.length} LoCoMo dev conversations (${convs.map((c) => c.sampleId).join(", ")}: ${convs.reduce((n, c) => n + c.turns.length, 0)} turns, ` +
      `${convs.reduce((n, c) => n + c.questions.length, 0)} questions), one thread per session, the default static embeddings, ` +
      "a scripted model that answers \"OK.\"; the graph with its defaults (window 10, extractive summaries, forgetting every 20 turns), importance threshold " +
      `${threshold ?? "0.1 (the default)"}.`,
    "",
    `| replay | R@5 | R@10 | Δ R@10 vs add | R@25 | hit@10 | tokens@10 | turns in long-term memory | records (episode / summary) | prompt / full history, last turn (max) | ${cats.join(" | ")} |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|${cats.map(() => "---:").join("|")}|`,
  ];
  for (const r of results) {
    const o = r.scores.overall;
    const delta = add && r !== add ? ((o.recall[10] ?? NaN) - (add.scores.overall.recall[10] ?? NaN)) * 100 : NaN;
    lines.push(
      `| ${MODES[r.mode]} | ${pct(o.recall[5])} | **${pct(o.recall[10])}** | ${Number.isFinite(delta) ? `${delta > 0 ? "+" : ""}${delta.toFixed(1)}` : "–"} | ` +
        `${pct(o.recall[25])} | ${pct(o.hit[10])} | ${Math.round(o.tokens[10] ?? NaN)} | ${pct(r.covered)}% | ` +
        `${r.records.episode ?? 0} / ${r.records.summary ?? 0} | ${r.maxLastRatio !== undefined ? r.maxLastRatio.toFixed(3) : "–"} | ` +
        `${CATEGORY_IDS.map((c) => pct(r.scores.byCategory[c].recall[10])).join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const o = new Command()
    .name("graph-replay-sessions")
    .description("LoCoMo through plain Memory.add, the graph, and the graph with endSession at each session's end: recall@k.")
    .option("--data <path>", "LoCoMo JSON (default: see src/locomo/data_path.ts)")
    .option("--conversations <n>", "only the first n conversations", positiveInt)
    .option("--out <dir>", "folder for graph-replay-sessions.json", "bench-results")
    .option("--threshold <n>", "the graph's importance threshold (default: the graph's)", (v) => {
      const n = Number(v);
      if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("a number in 0..1");
      return n;
    })
    .option("--forget-every <n>", "the graph's forgetEvery (default: the graph's, 20; 0: never)", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("an integer of 0 or more");
      return n;
    })
    .parse(process.argv)
    .opts<{ data?: string; conversations?: number; out: string; threshold?: number; forgetEvery?: number }>();
  const data = findLocomoData(o.data);
  if (data === undefined && o.data !== undefined) throw new Error(`LoCoMo data not found at ${resolve(o.data)} (see --data).`);
  if (data === undefined) {
    log(MISSING_DATA_HELP);
    return;
  }
  const all = devConversations(await loadLocomo(data));
  const convs = o.conversations ? all.slice(0, o.conversations) : all;
  const machine = machineInfo();
  const loadStart = loadavg();
  const started = performance.now();
  const scratch = await Scratch.open("engram-bench-graph-sessions-");
  try {
    const server = await scratch.startServer();
    const embeddings = new ReplayEmbeddings(new StaticEmbeddings());
    // Every replay embeds the same texts: the first pays, the others reuse (recall is what is measured here).
    embeddings.reuse = true;
    const results: Result[] = [];
    for (const mode of ["add", "graph", "graph-end"] as const) results.push(await replay(mode, convs, server.url, scratch.dir, embeddings, o.threshold, o.forgetEvery));
    const args = process.argv.slice(2).join(" ");
    const report = {
      title: `The graph keeps what matters: sessions that end${o.threshold !== undefined ? ` (importance threshold ${o.threshold})` : ""}${o.forgetEvery !== undefined ? ` (forgetEvery ${o.forgetEvery})` : ""}`,
      command: `corepack yarn workspace engram-bench graph-replay-sessions${args ? ` ${args}` : ""}`,
      machine,
      order: 16,
      markdown: markdown(results, convs, o.threshold),
      results,
      loadAverage: { start: loadStart, end: loadavg() },
      totalSeconds: (performance.now() - started) / 1000,
    };
    await mkdir(resolve(o.out), { recursive: true });
    const file = join(resolve(o.out), `graph-replay-sessions${o.threshold !== undefined ? `-${o.threshold}` : ""}${o.forgetEvery !== undefined ? `-forget${o.forgetEvery}` : ""}.json`);
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n${report.markdown}\n`);
    log(`Wrote ${file} (${report.totalSeconds.toFixed(0)} s)`);
  } finally {
    await scratch.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`graph-replay-sessions failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
