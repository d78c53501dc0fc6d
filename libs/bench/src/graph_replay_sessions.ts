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
import { positiveInt } from "./cli_args.js";
import { LocalEmbeddings, Memory, StaticEmbeddings, type MemoryRecord } from "engram";
import { createMemoryGraph, DEFAULT_SYSTEM_PROMPT } from "engram/graph";
import { countTokens } from "engram/working";
import { coverage, promptTokensByK, scoreRecords, summarizeTokens, turnMessageId, type TurnTokens } from "./graph_replay_metric.js";
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

/** The graph's settings a replay varies (undefined: the graph's default). */
export interface GraphSettings {
  threshold?: number;
  forgetEvery?: number;
  /** The window's maxTurns. */
  window?: number;
  summaryMaxTokens?: number;
  recallLimit?: number;
}

/** One conversation's figures in a replay (for cross-validation over conversations). */
export interface ConversationResult {
  sampleId: string;
  /** R@10 of each question, in order. */
  recall10: number[];
  /** Prompt / full history at the conversation's last turn (graph modes). */
  lastRatio?: number;
  /**
   * The same with only the first k recalled memories in the prompt (index k = 0..recallLimit): the
   * last turn's prompt with the recalled section cut after k lines (0: no section), so one replay
   * gives the prompt cost of every smaller recallLimit (what is stored does not depend on it).
   */
  lastRatioByK?: number[];
}

interface Result {
  mode: Mode;
  settings: GraphSettings;
  scores: Scores;
  conversations: ConversationResult[];
  /** Share of the top-10 slots by what fills them: user episodes, other episodes, summaries, other. */
  top10: Record<string, number>;
  records: Record<string, number>;
  covered: number;
  /** Worst last-turn ratio of prompt tokens to the full history (graph modes). */
  maxLastRatio?: number;
  seconds: number;
}

async function replay(mode: Mode, convs: Conversation[], chromaUrl: string, tmpDir: string, embeddings: ReplayEmbeddings, settings: GraphSettings = {}): Promise<Result> {
  const { threshold, forgetEvery } = settings;
  let now = 0;
  const memory = new Memory({
    dataDir: await mkdtemp(join(tmpDir, `${mode}-`)),
    chroma: { url: chromaUrl },
    embeddings,
    clock: () => now,
    prefix: `sessions-${mode}-${++replays}`,
    writes: "background",
  });
  const model = new ScriptedModel();
  const graph = createMemoryGraph({ memory, model, checkpointer: new MemorySaver(), onWarning: () => {}, ...(threshold !== undefined ? { importanceThreshold: threshold } : {}), ...(forgetEvery !== undefined ? { forgetEvery } : {}),
    ...(settings.window !== undefined ? { window: { maxTurns: settings.window } } : {}),
    ...(settings.summaryMaxTokens !== undefined ? { summaryMaxTokens: settings.summaryMaxTokens } : {}),
    ...(settings.recallLimit !== undefined ? { recallLimit: settings.recallLimit } : {}),
  });
  const started = performance.now();
  const scores: QuestionScore[] = [];
  const conversations: ConversationResult[] = [];
  const top10: Record<string, number> = {};
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
      const lastRatio = perTurn.length ? summarizeTokens(perTurn).lastRatio : undefined;
      const lastRatioByK = perTurn.length ? promptTokensByK(model.lastMessages).map((tokens) => tokens / perTurn[perTurn.length - 1]!.full) : undefined;
      if (lastRatio !== undefined) maxLastRatio = Math.max(maxLastRatio, lastRatio);
      const recall10: number[] = [];
      for (const question of conv.questions) {
        const hits = await memory.search(question.question, { userId: conv.sampleId, limit: MAX_K });
        const score = scoreRecords(question.category, question.evidence, hits, KS);
        scores.push(score);
        recall10.push(score.recall[10]!);
        for (const hit of hits.slice(0, 10)) {
          const what = hit.kind === "episode" ? (hit.role === "user" ? "user episode" : "other episode") : hit.kind === "summary" ? "summary" : "other";
          top10[what] = (top10[what] ?? 0) + 1;
        }
      }
      conversations.push({ sampleId: conv.sampleId, recall10, ...(lastRatio !== undefined ? { lastRatio } : {}), ...(lastRatioByK ? { lastRatioByK } : {}) });
      const all: MemoryRecord[] = await memory.getAll({ userId: conv.sampleId, limit: 10_000 });
      for (const record of all) records[record.kind] = (records[record.kind] ?? 0) + 1;
      covered += coverage(all, conv.turns.map((t) => t.diaId)) * conv.turns.length;
    }
  } finally {
    bar.stop();
    graph.cancelIdle();
    await memory.close();
  }
  const slots = Object.values(top10).reduce((a, b) => a + b, 0);
  const result: Result = {
    mode,
    settings,
    scores: aggregate(scores, KS),
    conversations,
    top10: Object.fromEntries(Object.entries(top10).map(([what, n]) => [what, n / Math.max(1, slots)])),
    records,
    covered: covered / Math.max(1, turns),
    ...(mode === "add" ? {} : { maxLastRatio }),
    seconds: (performance.now() - started) / 1000,
  };
  log(
    `${MODES[mode]} ${JSON.stringify(settings)}: R@10 ${pct(result.scores.overall.recall[10])}` +
      ` (${conversations.map((c) => `${c.sampleId} ${pct(mean(c.recall10))}${c.lastRatio !== undefined ? ` / ${c.lastRatio.toFixed(3)}` : ""}`).join(", ")})` +
      `; top 10: ${Object.entries(result.top10).map(([what, share]) => `${what} ${pct(share)}%`).join(", ")} (${result.seconds.toFixed(0)} s)`,
  );
  return result;
}

let replays = 0;

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function pct(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? (x * 100).toFixed(1) : "n/a";
}

function markdown(results: Result[], convs: Conversation[], threshold: number | undefined, model: "static" | "use-lite"): string {
  const add = results.find((r) => r.mode === "add");
  const cats = CATEGORY_IDS.map((c) => `${CATEGORIES[c]} R@10`);
  const lines = [
    `${convs.length} LoCoMo dev conversations (${convs.map((c) => c.sampleId).join(", ")}: ${convs.reduce((n, c) => n + c.turns.length, 0)} turns, ` +
      `${convs.reduce((n, c) => n + c.questions.length, 0)} questions), one thread per session, ${model === "use-lite" ? "USE-Lite embeddings (LocalEmbeddings)" : "the static embeddings"}, ` +
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
    .option("--model <name>", "embedding model: static or use-lite (USE-Lite, LocalEmbeddings)", (v) => {
      if (v !== "static" && v !== "use-lite") throw new InvalidArgumentError("static or use-lite");
      return v;
    }, "static")
    .option("--only <ids>", "only these conversations, comma-separated sample ids (e.g. conv-30,conv-41)", (v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .option("--modes <list>", "replays to run, comma-separated: add, graph, graph-end (none: only the --variants)", (v) => {
      // "none": only the --variants.
      const modes = v.split(",").map((s) => s.trim()).filter((m) => m !== "" && m !== "none");
      if (modes.some((m) => !(m in MODES))) throw new InvalidArgumentError("add, graph and/or graph-end");
      return modes as Mode[];
    }, ["add", "graph", "graph-end"] as Mode[])
    .option(
      "--variants <json>",
      'extra graph + endSession replays with other settings, a JSON list, e.g. \'[{"window":6,"summaryMaxTokens":200,"recallLimit":3}]\' (keys: threshold, forgetEvery, window, summaryMaxTokens, recallLimit)',
      (v) => {
        const list = JSON.parse(v) as unknown;
        if (!Array.isArray(list)) throw new InvalidArgumentError("a JSON list of settings");
        return list as GraphSettings[];
      },
      [] as GraphSettings[],
    )
    .parse(process.argv)
    .opts<{ data?: string; model: "static" | "use-lite"; conversations?: number; only?: string[]; modes: Mode[]; variants: GraphSettings[]; out: string; threshold?: number; forgetEvery?: number }>();
  const data = findLocomoData(o.data);
  if (data === undefined && o.data !== undefined) throw new Error(`LoCoMo data not found at ${resolve(o.data)} (see --data).`);
  if (data === undefined) {
    log(MISSING_DATA_HELP);
    return;
  }
  const all = devConversations(await loadLocomo(data));
  const chosen = o.only ? all.filter((c) => o.only!.includes(c.sampleId)) : all;
  const convs = o.conversations ? chosen.slice(0, o.conversations) : chosen;
  const machine = machineInfo();
  const loadStart = loadavg();
  const started = performance.now();
  const scratch = await Scratch.open("engram-bench-graph-sessions-");
  try {
    const server = await scratch.startServer();
    const embeddings = new ReplayEmbeddings(o.model === "use-lite" ? new LocalEmbeddings() : new StaticEmbeddings());
    // Every replay embeds the same texts: the first pays, the others reuse (recall is what is measured here).
    embeddings.reuse = true;
    const results: Result[] = [];
    const base: GraphSettings = { ...(o.threshold !== undefined ? { threshold: o.threshold } : {}), ...(o.forgetEvery !== undefined ? { forgetEvery: o.forgetEvery } : {}) };
    for (const mode of o.modes) results.push(await replay(mode, convs, server.url, scratch.dir, embeddings, mode === "add" ? {} : base));
    for (const variant of o.variants) results.push(await replay("graph-end", convs, server.url, scratch.dir, embeddings, { ...base, ...variant }));
    const args = process.argv.slice(2).join(" ");
    const report = {
      title: `The graph keeps what matters: sessions that end${o.threshold !== undefined ? ` (importance threshold ${o.threshold})` : ""}${o.forgetEvery !== undefined ? ` (forgetEvery ${o.forgetEvery})` : ""}`,
      command: `corepack yarn workspace engram-bench graph-replay-sessions${args ? ` ${args}` : ""}`,
      machine,
      order: 16,
      markdown: markdown(results, convs, o.threshold, o.model),
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
