/**
 * The report of the graph replay benchmark (src/graph_replay.ts): its JSON shape and the markdown
 * that src/report/ puts on the benchmarks page (`{ title, markdown }` plus the figures).
 */
import { CATEGORIES, CATEGORY_IDS } from "./locomo/data.js";
import type { Scores } from "./locomo/metric.js";
import type { TokenSummary } from "./graph_replay_metric.js";
import { SCRIPTED_REPLY } from "./graph_replay_parts.js";
import type { MachineInfo } from "./machine.js";
import { formatMs, type LatencySummary } from "./stats.js";

/** Targets of issue 5. */
export const TARGET_RATIO = 0.1;
export const TARGET_P95_MS = 25;

export interface Timing {
  /** recall + score + remember + consolidate. */
  overhead: LatencySummary;
  /** Turns on which consolidate ran forgetting (every `forgetEvery` turns of a thread) and the others. */
  overheadForgetTurns: LatencySummary;
  overheadOtherTurns: LatencySummary;
  /** Time in the local embedding model during the turn, and the overhead without it. */
  embedding: LatencySummary;
  overheadWithoutEmbedding: LatencySummary;
  /** Texts the model embedded per turn (mean). */
  textsPerTurn: number;
  /** CPU time of this process (user + system, all threads) in the four memory nodes. */
  cpu: LatencySummary;
  /** The whole graph run (LangGraph, checkpointer and all nodes) minus the model node. */
  runMinusModel: LatencySummary;
  /** Each node, over the turns it ran on. */
  nodes: Record<string, LatencySummary>;
  /**
   * What each turn left to the background (embedding and storing its records, forgetting passes),
   * timed as `memory.flush()` after the run, before the next turn; and the model's share of it.
   * Absent from runs before the model left the hot path.
   */
  background?: LatencySummary;
  backgroundEmbedding?: LatencySummary;
  backgroundTextsPerTurn?: number;
  /** The overhead and the model's share of it by the length of the turn's message. */
  byLength?: Array<{ band: string; overhead: LatencySummary; embedding: LatencySummary }>;
}

export interface ConversationTokens extends TokenSummary {
  sampleId: string;
  sessions: number;
}

export interface VariantResult {
  threshold: number;
  isDefault: boolean;
  turns: number;
  /** Turns the importance edge routed through `remember` (stored as episodes). */
  stored: number;
  /** Share of turns scored at or above each of `IMPORTANCE_GRID` (what other thresholds would have stored, as scored in this replay). */
  importanceAtOrAbove: Record<string, number>;
  /** Share of turns some record covers at the end (episodes, summaries). */
  covered: number;
  /** Records at the end, by kind. */
  records: Record<string, number>;
  scores: Scores;
  query: LatencySummary;
  tokens: ConversationTokens[];
  replaySeconds: number;
  /** Per-turn cost. Only the first replay embeds every text when asked; later ones reuse its vectors. */
  timing: Timing;
  /** True for the first replay: its timing includes the local embedding model. */
  timed: boolean;
  warnings: number;
}

export function pct(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? (x * 100).toFixed(1) : "n/a";
}

function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a";
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(" | ")} |`, `|---|${header.slice(1).map(() => "---:").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

function tokensTable(tokens: ConversationTokens[]): string {
  const sum = (pick: (t: ConversationTokens) => number) => tokens.reduce((s, t) => s + pick(t), 0);
  const rows = tokens.map((t) => [
    t.sampleId,
    `${fmtInt(t.turns)} / ${t.sessions}`,
    fmtInt(t.lastEngram),
    fmtInt(t.lastFull),
    `**${t.lastRatio.toFixed(3)}**`,
    fmtInt(t.maxEngram),
    t.totalRatio.toFixed(3),
  ]);
  if (tokens.length > 1) {
    rows.push([
      "all",
      `${fmtInt(sum((t) => t.turns))} / ${sum((t) => t.sessions)}`,
      fmtInt(sum((t) => t.lastEngram) / tokens.length) + " (mean)",
      fmtInt(sum((t) => t.lastFull) / tokens.length) + " (mean)",
      `**${(Math.max(...tokens.map((t) => t.lastRatio))).toFixed(3)}** (max)`,
      fmtInt(Math.max(...tokens.map((t) => t.maxEngram))),
      (sum((t) => t.totalEngram) / sum((t) => t.totalFull)).toFixed(3),
    ]);
  }
  return table(
    ["conversation", "turns / sessions", "Engram prompt, last turn", "full history, last turn", "ratio, last turn", "largest Engram prompt", "ratio, all turns summed"],
    rows,
  );
}

function timingTable(t: Timing): string {
  const row = (name: string, s: LatencySummary | undefined) =>
    s ? [name, fmtInt(s.count), formatMs(s.p50), formatMs(s.p95), formatMs(s.p99), formatMs(s.mean), formatMs(s.max)] : [name, "0", "–", "–", "–", "–", "–"];
  return table(
    ["per turn (ms)", "turns", "p50", "p95", "p99", "mean", "max"],
    [
      row("**recall + score + remember + consolidate**", t.overhead),
      row("… turns without a forgetting pass", t.overheadOtherTurns),
      row("… turns with a forgetting pass", t.overheadForgetTurns),
      row(`… of which in the local embedding model (${t.textsPerTurn.toFixed(1)} texts per turn)`, t.embedding),
      row("… without the embedding model", t.overheadWithoutEmbedding),
      row("… CPU time of the process (user + system)", t.cpu),
      ...(["recall", "score", "remember", "consolidate"] as const).map((n) => row(`node \`${n}\``, t.nodes[n])),
      row("graph run minus the model node (LangGraph, checkpointer, all nodes)", t.runMinusModel),
      ...(t.background
        ? [
            row(`left to the background, timed as \`memory.flush()\` after the turn`, t.background),
            row(`… of which in the local embedding model (${(t.backgroundTextsPerTurn ?? 0).toFixed(1)} texts per turn)`, t.backgroundEmbedding),
          ]
        : []),
    ],
  );
}

function lengthTable(t: Timing): string {
  if (!t.byLength) return "";
  return table(
    ["turn's message", "turns", "overhead p50", "overhead p95", "model p50", "model p95"],
    t.byLength.map((b) => [b.band, fmtInt(b.overhead.count), formatMs(b.overhead.p50), formatMs(b.overhead.p95), formatMs(b.embedding.p50), formatMs(b.embedding.p95)]),
  );
}

function edgeTable(variants: VariantResult[]): string {
  return table(
    ["importance threshold", "turns stored as episodes", "turns in long-term memory", "records (episode / summary)", "R@5", "R@10", "R@25", "hit@10", "tokens@10", ...CATEGORY_IDS.map((c) => `${CATEGORIES[c]} R@10`)],
    variants.map((v) => {
      const o = v.scores.overall;
      return [
        v.threshold === 0 ? "0 (every turn)" : v.isDefault ? `**${v.threshold} (default)**` : String(v.threshold),
        `${pct(v.stored / Math.max(1, v.turns))}%`,
        `${pct(v.covered)}%`,
        `${fmtInt(v.records.episode ?? 0)} / ${fmtInt(v.records.summary ?? 0)}`,
        pct(o.recall[5]),
        `**${pct(o.recall[10])}**`,
        pct(o.recall[25]),
        pct(o.hit[10]),
        fmtInt(o.tokens[10] ?? Number.NaN),
        ...CATEGORY_IDS.map((c) => pct(v.scores.byCategory[c].recall[10])),
      ];
    }),
  );
}

export interface Report {
  title: string;
  markdown: string;
  command: string;
  machine: MachineInfo;
  order: number;
  benchmarkId: "graph_replay";
  parameters: {
    data: string;
    conversations?: number;
    maxTurns?: number;
    /** One replay each; the first is timed. */
    thresholds: number[];
    ks: number[];
    defaultThreshold: number;
    /** Load average (1, 5, 15 min) when the run started. */
    loadAverage: number[];
  };
  dataset: { conversations: string[]; turns: number; sessions: number; questions: number };
  figures: {
    /** Worst (largest) last-turn ratio over the conversations. */
    maxLastTurnRatio: number;
    overheadP50Ms: number;
    overheadP95Ms: number;
    recallAt10: Record<string, number>;
    storedShare: Record<string, number>;
  };
  variants: VariantResult[];
  embeddings: { model: string; embedded: number; reused: number };
  /** Load average when the run ended (the start is in `parameters`). */
  loadAverageEnd?: number[];
  totalSeconds: number;
}

function loads(values: readonly number[]): string {
  return values.map((l) => l.toFixed(1)).join(" / ");
}

/** What the edge's rows say, in words: the default against storing every turn. */
function edgeFindings(variants: readonly VariantResult[]): string[] {
  const base = variants.find((v) => v.isDefault);
  const all = variants.find((v) => v.threshold === 0);
  if (!base || !all || base === all) return [];
  const points = (a: number | undefined, b: number | undefined) => {
    const delta = ((a ?? NaN) - (b ?? NaN)) * 100;
    return `${delta > 0 ? "+" : ""}${delta.toFixed(1)}`;
  };
  const ratio = (all.records.episode ?? 0) / Math.max(1, base.records.episode ?? 0);
  return [
    `Against the default threshold ${base.threshold}, storing every turn changes R@10 by ` +
      `${points(all.scores.overall.recall[10], base.scores.overall.recall[10])} points ` +
      `(hit@10 ${points(all.scores.overall.hit[10], base.scores.overall.hit[10])}, R@25 ${points(all.scores.overall.recall[25], base.scores.overall.recall[25])}) ` +
      `for ${ratio.toFixed(1)}× the episode records. At the default, ` +
      `${pct(1 - base.covered)}% of the turns never reach long-term memory: the turns still in the window when their ` +
      "session ended, scored under the threshold (the window is summarized only when turns leave it).",
    "",
  ];
}

export function renderMarkdown(report: Omit<Report, "markdown">): string {
  const timed = report.variants[0]!;
  const t = timed.timing!;
  const d = report.dataset;
  const f = report.figures;
  const ratioOk = f.maxLastTurnRatio <= TARGET_RATIO;
  const p95Ok = f.overheadP95Ms < TARGET_P95_MS;
  return [
    `Each LoCoMo conversation (${d.conversations.join(", ")}: ${fmtInt(d.turns)} turns in ${d.sessions} sessions) replayed ` +
      "through `createMemoryGraph` as live turns: one user per conversation, one thread per session (a `MemorySaver` " +
      "checkpointer), each turn a human message `<speaker>: <text>` answered by a scripted model (no LLM) that always says " +
      `"${SCRIPTED_REPLY}". Graph defaults otherwise: heuristic importance, a window of 10 turns, extractive summaries, ` +
      "5 recalled memories, forgetting every 20 turns of a thread; the local embeddings (USE-Lite, 512-d) on a local Chroma server; " +
        '`Memory` with its defaults (`writes: "background"`: a write returns once durable in the outbox; the model embeds it and Chroma stores it right after) and its default embedding cache. ' +
      `Total run ${fmtInt(report.totalSeconds)} s; load average (1 / 5 / 15 min) ${loads(report.parameters.loadAverage)} at the start` +
      (report.loadAverageEnd ? `, ${loads(report.loadAverageEnd)} at the end` : "") +
      ` (${report.machine.cpus} cores).`,
    "",
    "### Prompt tokens per turn",
    "",
    "What the model received through Engram (system prompt with summary and recalled memories + the window, " +
      "`countTokens`, cl100k_base, 4 tokens per message) against the whole conversation so far with the same system " +
      `instructions (what a model without memory is sent). Target: at most ${TARGET_RATIO} of the full history by the end ` +
      `of a conversation: **${ratioOk ? "met" : "not met"}** (worst ratio ${f.maxLastTurnRatio.toFixed(3)}). ` +
      `Threshold ${timed.threshold}.`,
    "",
    tokensTable(timed.tokens),
    "",
    "### The graph's overhead per turn",
    "",
    "Time of the memory nodes of one turn (recall + score + remember + consolidate), read from LangGraph's callbacks " +
      "around each node, the model node left out; every text embedded by the local model when the graph asks for it " +
      `(no cache). Target: p95 under ${TARGET_P95_MS} ms including the local embedding: **${p95Ok ? "met" : "not met"}** ` +
      `(p95 ${formatMs(f.overheadP95Ms)} ms). The local model (USE-Lite, in-process WebAssembly) takes p50 ` +
      `${formatMs(t.embedding.p50)} / p95 ${formatMs(t.embedding.p95)} ms of a turn for ${t.textsPerTurn.toFixed(1)} texts: ` +
      (t.background
        ? "on the turn's path it embeds only the query in `recall`. What a turn writes (embedding and entity tagging of its " +
          "records, the Chroma upserts) and the forgetting pass every 20 turns of a thread run in the background; they are " +
          "timed apart, as `memory.flush()` after each turn and before the next (a user reading the reply gives them that time). "
        : "the query in `recall`, the summary of the evicted turn in `consolidate`, the exchange in `remember`. ") +
      `Without the model the nodes take p50 ${formatMs(t.overheadWithoutEmbedding.p50)} / p95 ${formatMs(t.overheadWithoutEmbedding.p95)} ms. ` +
      "Wall-clock times on a shared machine: the CPU-time row is less sensitive to load.",
    "",
    timingTable(t),
    "",
    ...(t.byLength
      ? [
          "The model's cost grows with the message's length (LoCoMo turns: a median of 28 words), and so does the overhead:",
          "",
          lengthTable(t),
          "",
        ]
      : []),
    "### The importance edge's cost",
    "",
    "Turns scored under the threshold skip `remember`; they reach long-term memory only through the summary record " +
      "written when they leave the window (and turns still in the window when a session ends never do). After each " +
      `conversation's replay its questions (categories 1-4) go to \`memory.search(question, { userId, limit: ${Math.max(...report.parameters.ks)} })\`; ` +
      "each returned record counts the turns it came from (`source.messageIds`; summaries cover the turns they fold), " +
      "recall@k / hit@k as in the LoCoMo section, tokens@k = characters / 4 of the top k records' texts. " +
      "\"Turns in long-term memory\": share of turns some record covers at the end.",
    "",
    edgeTable(report.variants),
    "",
    ...edgeFindings(report.variants),
    `Importance of the turns as scored in the first replay (heuristic scorer, novelty against what was recalled): share at or above ` +
      Object.entries(timed.importanceAtOrAbove)
        .map(([t, share]) => `${t}: ${pct(share)}%`)
        .join(", ") +
      ".",
    "",
    "Notes:",
    "",
    "- The scripted replies are stored as episodes with the turns routed to `remember` (they are part of the exchange); " +
      "they map to no turn, and forgetting merges them (same text).",
    `- Replays after the first reuse its embeddings (${fmtInt(report.embeddings.embedded)} texts embedded by the model, ` +
      `${fmtInt(report.embeddings.reused)} served again), so only the first replay is timed.`,
    "- Clock: the session's date plus one second per turn of the session; questions at the time of the conversation's last turn.",
    "",
  ].join("\n");
}
