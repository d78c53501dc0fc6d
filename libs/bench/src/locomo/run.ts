/**
 * LoCoMo retrieval benchmark: every system ingests each conversation's turns in order, then ranks
 * turns for each question of categories 1-4; recall@k / hit@k against the cleaned evidence
 * (metric and reference figures: the README beside the data).
 *
 *   node --import tsx src/locomo/run.ts --systems bm25,recency,dense,engram --conversations 5
 *
 * Rows that name no model use the library's default (found by asking a Memory, default_model.ts);
 * `dense-<model>` / `engram-<model>` rows name theirs. The run records its duration, the load
 * average (sampled every 15 s) and each row's CPU time: the machine may be shared.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { ChromaClient } from "chromadb";
import { Command } from "commander";
import { positiveInt } from "../cli_args.js";
import { chromadbVersion, formatMachine, machineInfo, type MachineInfo } from "../machine.js";
import { Scratch } from "../scratch.js";
import { log, progressBar } from "../progress.js";
import { summarize, type LatencySummary } from "../stats.js";
import { CATEGORIES, CATEGORY_IDS, loadLocomo, type Conversation } from "./data.js";
import { CachedEmbeddings, createModel, MODEL_NAMES, modelIds, type ModelName } from "./embeddings.js";
import { libraryDefaultModel } from "./default_model.js";
import { MISSING_DATA_HELP, devConversations, findLocomoData } from "./data_path.js";
import { judgeAll, judgeConfig, openJudgeModels, scoreJudged, type ChatLike, type JudgeConfig, type JudgeItem, type JudgeScores } from "./judge.js";
import { aggregateAnswerRecall, answerRecallAt, type AnswerRecallScores } from "./answer_recall.js";
import { DEFAULT_KS, aggregate, scoreQuestion, tokensOf, topK, type QuestionScore, type Scores } from "./metric.js";
import { turnContent, type RetrieverContext } from "./retrievers.js";
import { DEFAULT_SYSTEMS, SYSTEMS, type SystemSpec } from "./systems.js";

const KS = [...DEFAULT_KS];
const MAX_K = Math.max(...KS);

/** The README's reference figures on the dev half (categories 1-4), in percent. */
const REFERENCE = [
  { method: "plain BM25 (k1 1.2, b 0.75, [a-z0-9]+ tokens, date + speaker + text)", r5: 48.4, r10: 55.5, r25: 63.3 },
  { method: "recency (last k turns)", r5: 0.2, r10: 1.2, r25: 3.2 },
  { method: "published DRAGON dense, turns (paper Table 3, all 10 conversations, re-weighted)", r5: 60.4, r10: 69.6, r25: 79.7 },
];

interface Params {
  data: string;
  systems: string[];
  conversations?: number;
  out: string;
  perQuestion: boolean;
  /** Embed each distinct text once per run (false: every system embeds for itself, for honest ingest times). */
  embeddingCache: boolean;
  vectors?: string;
  /** Embedding model of the rows that name none: the library's default unless given. */
  model: ModelName | "default";
  /** LLM judge (judge.ts): the model names it runs with, how many turns the reader gets, which rows. */
  judgeModel?: string;
  judgeJudgeModel?: string;
  judgeK: number;
  judgeConcurrency: number;
  judgeSystems?: string[];
}

interface SystemResult {
  id: string;
  group: "system" | "ablation";
  name: string;
  description: string;
  /** The embedding model's id (what a data folder records), for rows that embed. */
  model?: string;
  ingestSeconds: number;
  /** The row's wall time (ingest and questions), its process CPU time, and the 1-minute load average before and after. */
  seconds: number;
  cpuSeconds: number;
  load: { start: number; end: number };
  /** Latency of one rank() call (ms), question embedding and search included. */
  query: LatencySummary;
  /** Latency of one per-turn add call (ms), for systems that store turns one at a time. */
  add?: LatencySummary;
  scores: Scores;
  /** Share of the gold answer's tokens (LoCoMo's normalization) in the top-k texts: answer_recall.ts. */
  answerRecall: AnswerRecallScores;
  /** The LLM judge's J (judge.ts), when a server was configured. */
  judge?: { reader: string; judge: string; k: number; seconds: number; scores: JudgeScores };
  perQuestion?: Array<{
    sampleId: string;
    qa: number;
    category: number;
    evidence: string[];
    top: string[];
    recall10: number;
    /** The reader's answer and the judge's label, when the judge ran. */
    judge?: { answer: string; label: string };
  }>;
}

interface Report {
  benchmark: "locomo";
  /** The command line that produced this file. */
  command: string;
  machine: MachineInfo;
  chromaServerVersion?: string;
  chromadbClient?: string;
  parameters: Omit<Params, "out" | "perQuestion"> & { ks: number[] };
  dataset: {
    conversations: string[];
    turns: number;
    sessions: number;
    questions: number;
    byCategory: Record<string, number>;
    skipped: { adversarial: number; noEvidence: number; droppedEvidenceIds: number };
    /** Tokens (characters / 4) of the whole conversation, averaged over questions. */
    fullContextTokens: number;
  };
  /** The default model's description, and texts embedded by each model and served from the run's cache. */
  embeddings: { model: string; defaultModel: string; libraryDefault: string; byModel: Record<string, { embedded: number; cached: number; seeded: number }> };
  /** 1-minute load average: at the start, the end, and the mean / max of samples every 15 s; the process's nice value. */
  load: { start: number; end: number; mean: number; max: number; samples: number; nice: number; cpus: number };
  reference: typeof REFERENCE;
  results: SystemResult[];
  notes: string[];
  totalSeconds: number;
}

/** The parsed options, or undefined when no data file was asked for and none is found (a skip, not a failure). */
function parseArgs(argv: string[]): Params | undefined {
  const known = SYSTEMS.map((s) => s.id);
  const program = new Command()
    .name("locomo")
    .description("LoCoMo retrieval benchmark: recall@k of dialogue turns for questions of categories 1-4.")
    .option("--data <path>", "LoCoMo JSON (default: the first found of libs/bench/data/locomo/locomo10.json, locomo-dev.json, ../shared/bench/locomo/locomo-dev.json)")
    .option("--systems <list>", `systems, comma-separated (${known.join(", ")})`, (v) => v.split(",").map((s) => s.trim()).filter(Boolean), DEFAULT_SYSTEMS)
    .option("--conversations <n>", "only the first n conversations (quick runs)", positiveInt)
    .option("--out <dir>", "folder for locomo.json and locomo.md", "bench-results")
    .option("--per-question", "also write each question's top-k and recall@10 to locomo.json", false)
    .option("--model <name>", "embedding model of the rows that name none: default (what new Memory() uses), use-lite or static", "default")
    .option("--vectors <file>", "seed the embedding cache of the model that wrote this file of [text, vector] pairs (locomo/lab.ts's cache; checked against the model)")
    .option("--no-embedding-cache", "embed again for every system (ingest and query times then include the model)")
    .option("--judge-model <name>", "run the LLM judge (J, Mem0's protocol) with this model on the OpenAI-compatible server at OPENAI_BASE_URL (key: OPENAI_API_KEY)")
    .option("--judge-judge-model <name>", "a different model for the judging step (default: --judge-model)")
    .option("--judge-k <k>", "turns the reader model gets", positiveInt, 10)
    .option("--judge-concurrency <n>", "requests in flight", positiveInt, 4)
    .option("--judge-systems <list>", "rows to judge (default: every row but the ablations)", (v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .parse(argv);
  const o = program.opts<Omit<Params, "data"> & { data?: string }>();
  const unknown = o.systems.filter((id) => !known.includes(id));
  if (unknown.length) program.error(`unknown system(s): ${unknown.join(", ")}; known: ${known.join(", ")}`);
  if (o.systems.length === 0) program.error("--systems is empty.");
  if (o.model !== "default" && !MODEL_NAMES.includes(o.model)) program.error(`--model must be default, ${MODEL_NAMES.join(" or ")}.`);
  try {
    judgeConfig(process.env, o.judgeModel, o.judgeJudgeModel);
  } catch (error) {
    program.error((error as Error).message);
  }
  const data = findLocomoData(o.data);
  if (data === undefined && o.data !== undefined) program.error(`LoCoMo data not found at ${resolve(o.data)} (see --data).`);
  if (data === undefined) return undefined;
  return { ...o, data, out: resolve(o.out) };
}

/**
 * The model that wrote a seed file: the one whose own vectors for the file's first texts agree with
 * the file's (cosine above 0.999). A file of another model (or version) is refused.
 */
async function modelOfVectors(entries: Array<[string, number[]]>, caches: Record<ModelName, CachedEmbeddings>): Promise<ModelName> {
  const probe = entries.slice(0, 3);
  if (probe.length === 0) throw new Error("--vectors: the file holds no vectors");
  for (const model of MODEL_NAMES) {
    const fresh = await caches[model].embedFresh(probe.map(([text]) => text));
    if (probe.every(([, vector], i) => cosine(vector, fresh[i]!) > 0.999)) return model;
  }
  throw new Error(`--vectors: the file's vectors match none of ${MODEL_NAMES.join(", ")} (another model or version wrote it)`);
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return a.length === b.length && na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

interface JudgeRun {
  config: JudgeConfig;
  models: { reader: ChatLike; judge: ChatLike };
  k: number;
  concurrency: number;
}

async function runSystem(
  spec: SystemSpec,
  ctx: RetrieverContext,
  convs: Conversation[],
  perQuestion: boolean,
  judge?: JudgeRun,
): Promise<SystemResult> {
  const retriever = spec.create(ctx);
  const began = performance.now();
  const cpu = process.cpuUsage();
  const loadStart = os.loadavg()[0]!;
  try {
    const turns = convs.reduce((n, c) => n + c.turns.length, 0);
    const ingestBar = progressBar(`${retriever.name}: ingest`, turns);
    const t0 = performance.now();
    for (const conv of convs) await retriever.ingest(conv, (n) => ingestBar.increment(n));
    const ingestSeconds = (performance.now() - t0) / 1000;
    ingestBar.stop();

    const questions = convs.reduce((n, c) => n + c.questions.length, 0);
    const queryBar = progressBar(`${retriever.name}: questions`, questions);
    const scores: QuestionScore[] = [];
    const answers: Array<{ category: QuestionScore["category"]; recall: Record<number, number> }> = [];
    const latencies: number[] = [];
    const details: NonNullable<SystemResult["perQuestion"]> = [];
    const judgeItems: JudgeItem[] = [];
    for (const conv of convs) {
      const texts = new Map(conv.turns.map((t) => [t.diaId, retriever.text ? retriever.text(t) : turnContent(t)]));
      const turnsById = new Map(conv.turns.map((t) => [t.diaId, t]));
      for (const question of conv.questions) {
        const start = performance.now();
        const ranked = await retriever.rank(conv, question, MAX_K);
        latencies.push(performance.now() - start);
        const score = scoreQuestion(question.category, question.evidence, ranked, (id) => texts.get(id), KS);
        scores.push(score);
        answers.push({ category: question.category, recall: answerRecallAt(question.answer, ranked, (id) => texts.get(id), KS) });
        if (judge) {
          // The reader gets each turn as every memory system returns it, with the time it was said.
          const memories = topK(ranked, judge.k).flatMap((id) => {
            const turn = turnsById.get(id);
            return turn ? [{ time: turn.dateText, text: turnContent(turn) }] : [];
          });
          judgeItems.push({ question: question.question, gold: question.answer, category: question.category, memories });
        }
        if (perQuestion) {
          details.push({
            sampleId: conv.sampleId,
            qa: question.index,
            category: question.category,
            evidence: question.evidence,
            top: ranked.slice(0, MAX_K),
            recall10: score.recall[10]!,
          });
        }
        queryBar.increment();
      }
    }
    queryBar.stop();
    let judged: SystemResult["judge"];
    if (judge) {
      const bar = progressBar(`${retriever.name}: LLM judge`, judgeItems.length);
      const t1 = performance.now();
      const results = await judgeAll(judgeItems, judge.models, { concurrency: judge.concurrency, progress: () => bar.increment() });
      bar.stop();
      if (perQuestion) results.forEach((r, i) => (details[i]!.judge = { answer: r.answer, label: r.label }));
      judged = {
        reader: judge.config.model,
        judge: judge.config.judgeModel,
        k: judge.k,
        seconds: (performance.now() - t1) / 1000,
        scores: scoreJudged(judgeItems, results),
      };
      log(`${retriever.name}: J ${pct(judged.scores.overall.j)} (${judged.scores.unreadable} unreadable judge replies)`);
    }
    const used = process.cpuUsage(cpu);
    const result: SystemResult = {
      id: spec.id,
      group: spec.group ?? "system",
      name: retriever.name,
      description: retriever.description,
      ...(retriever.model ? { model: retriever.model } : {}),
      ingestSeconds,
      seconds: (performance.now() - began) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6,
      load: { start: loadStart, end: os.loadavg()[0]! },
      query: summarize(latencies),
      ...(retriever.addLatencies?.length ? { add: summarize(retriever.addLatencies) } : {}),
      scores: aggregate(scores, KS),
      answerRecall: aggregateAnswerRecall(answers, KS),
      ...(judged ? { judge: judged } : {}),
    };
    if (perQuestion) result.perQuestion = details;
    log(
      `${retriever.name}: R@10 ${pct(result.scores.overall.recall[10]!)} (ingest ${ingestSeconds.toFixed(1)} s, ` +
        `row ${result.seconds.toFixed(0)} s, CPU ${result.cpuSeconds.toFixed(0)} s, load ${loadStart.toFixed(1)} -> ${result.load.end.toFixed(1)})`,
    );
    return result;
  } finally {
    await retriever.close();
  }
}

/** The command as a reader would rerun it: the arguments given, less where the files went (--out). */
function commandLine(args: string[]): string {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out") i++;
    else if (!args[i]!.startsWith("--out=")) kept.push(args[i]!);
  }
  return ["corepack yarn workspace engram-bench locomo", ...kept].join(" ");
}

function judgeTable(results: SystemResult[]): string {
  const judged = results.filter((r) => r.judge);
  if (judged.length === 0) return "";
  const cats = CATEGORY_IDS.map((c) => `${CATEGORIES[c]} J`);
  const lines = [`| system | J | ${cats.join(" | ")} | reader / judge | k | unreadable |`, `|---|---:|${cats.map(() => "---:").join("|")}|---|---:|---:|`];
  for (const r of judged) {
    const j = r.judge!;
    lines.push(
      `| ${r.name} | ${pct(j.scores.overall.j)} | ${CATEGORY_IDS.map((c) => pct(j.scores.byCategory[c].j)).join(" | ")} | ${j.reader} / ${j.judge} | ${j.k} | ${j.scores.unreadable} |`,
    );
  }
  return lines.join("\n");
}

function pct(x: number): string {
  return Number.isFinite(x) ? (x * 100).toFixed(1) : "n/a";
}

function markdownTable(results: SystemResult[]): string {
  const cats = CATEGORY_IDS.map((c) => `${CATEGORIES[c]} R@10`);
  const lines = [
    `| system | R@5 | R@10 | R@25 | hit@10 | tokens@10 | ${cats.join(" | ")} |`,
    `|---|---:|---:|---:|---:|---:|${cats.map(() => "---:").join("|")}|`,
  ];
  for (const r of results) {
    const o = r.scores.overall;
    lines.push(
      `| ${r.name} | ${pct(o.recall[5]!)} | ${pct(o.recall[10]!)} | ${pct(o.recall[25]!)} | ${pct(o.hit[10]!)} | ` +
        `${Math.round(o.tokens[10]!)} | ${CATEGORY_IDS.map((c) => pct(r.scores.byCategory[c].recall[10]!)).join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

function answerTable(results: SystemResult[]): string {
  const cats = CATEGORY_IDS.map((c) => `${CATEGORIES[c]} AR@10`);
  const lines = [`| system | AR@5 | AR@10 | AR@25 | ${cats.join(" | ")} |`, `|---|---:|---:|---:|${cats.map(() => "---:").join("|")}|`];
  for (const r of results) {
    const a = r.answerRecall;
    lines.push(
      `| ${r.name} | ${pct(a.overall.recall[5]!)} | ${pct(a.overall.recall[10]!)} | ${pct(a.overall.recall[25]!)} | ` +
        `${CATEGORY_IDS.map((c) => pct(a.byCategory[c].recall[10]!)).join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

function costTable(results: SystemResult[]): string {
  const lines = [
    "| system | hit@5 | hit@25 | tokens@5 | tokens@25 | ingest (s) | add p50 (ms) | add p95 (ms) | query p50 (ms) | query p95 (ms) | row (s) | CPU (s) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    const o = r.scores.overall;
    lines.push(
      `| ${r.name} | ${pct(o.hit[5]!)} | ${pct(o.hit[25]!)} | ${Math.round(o.tokens[5]!)} | ${Math.round(o.tokens[25]!)} | ` +
        `${r.ingestSeconds.toFixed(1)} | ${r.add ? r.add.p50.toFixed(1) : "-"} | ${r.add ? r.add.p95.toFixed(1) : "-"} | ` +
        `${r.query.p50.toFixed(1)} | ${r.query.p95.toFixed(1)} | ${r.seconds.toFixed(0)} | ${r.cpuSeconds.toFixed(0)} |`,
    );
  }
  return lines.join("\n");
}

function markdownReport(report: Report): string {
  const d = report.dataset;
  const cats = CATEGORY_IDS.map((c) => `${d.byCategory[c]} ${CATEGORIES[c]}`).join(", ");
  return [
    "# LoCoMo retrieval benchmark",
    "",
    `- Machine: ${formatMachine(report.machine)}`,
    `- Date: ${report.machine.date}; total run ${report.totalSeconds.toFixed(0)} s`,
    report.chromaServerVersion ? `- Chroma server ${report.chromaServerVersion} (npm chromadb ${report.chromadbClient}), one local server` : "",
    `- Data: ${d.conversations.join(", ")}: ${d.turns} turns in ${d.sessions} sessions; ${d.questions} questions (${cats}); ` +
      `skipped ${d.skipped.adversarial} adversarial, ${d.skipped.noEvidence} without usable evidence ` +
      `(evidence ids not in their conversation, dropped: ${d.skipped.droppedEvidenceIds})`,
    `- Unit: one turn (dia_id); recall@k and hit@k on sets, averaged over questions (in %); tokens = characters / 4 of the ` +
      `top-k turns' texts as the system returns them (bm25: its document; others: \`<speaker>: <text>\` with the photo caption); ` +
      `full context (every turn as \`<speaker>: <text>\` with captions) ≈ ${Math.round(d.fullContextTokens)} tokens per question`,
    "",
    markdownTable(report.results),
    "",
    costTable(report.results),
    "",
    "Answer recall (AR@k): share of the gold answer's tokens (LoCoMo's F1 normalization: lowercase, no punctuation or articles, Porter stems) found in the top-k texts, in %:",
    "",
    answerTable(report.results),
    "",
    ...(judgeTable(report.results) ? ["LLM judge (J, Mem0's protocol, src/locomo/judge.ts): share of answers judged CORRECT, in %:", "", judgeTable(report.results), ""] : []),
    "Systems:",
    ...report.results.map((r) => `- **${r.name}**: ${r.description}`),
    "",
    "Reference (README of the data):",
    "",
    "| method | R@5 | R@10 | R@25 |",
    "|---|---:|---:|---:|",
    ...report.reference.map((r) => `| ${r.method} | ${r.r5} | ${r.r10} | ${r.r25} |`),
    "",
    "Notes:",
    ...report.notes.map((n) => `- ${n}`),
    "",
  ]
    .filter((line, i, all) => line !== "" || all[i - 1] !== "")
    .join("\n");
}

async function main(): Promise<void> {
  const params = parseArgs(process.argv);
  if (!params) {
    log(MISSING_DATA_HELP);
    return;
  }
  const started = performance.now();
  const machine = machineInfo();
  const all = devConversations(await loadLocomo(params.data));
  const convs = params.conversations ? all.slice(0, params.conversations) : all;
  const specs = params.systems.map((id) => SYSTEMS.find((s) => s.id === id)!);
  const questions = convs.flatMap((c) => c.questions);
  log(`LoCoMo: ${convs.length} conversations, ${convs.reduce((n, c) => n + c.turns.length, 0)} turns, ${questions.length} questions`);

  const scratch = await Scratch.open("engram-bench-locomo-");
  const tmpDir = scratch.dir;

  try {
    const ids = modelIds();
    const caches = Object.fromEntries(
      MODEL_NAMES.map((model) => [model, new CachedEmbeddings(createModel(model), params.embeddingCache, ids[model])]),
    ) as Record<ModelName, CachedEmbeddings>;
    const seeded: Partial<Record<ModelName, number>> = {};
    if (params.vectors) {
      const entries = JSON.parse(await readFile(params.vectors, "utf8")) as Array<[string, number[]]>;
      const model = await modelOfVectors(entries, caches);
      caches[model].seed(entries);
      seeded[model] = entries.length;
      log(`Seeded the ${model} cache with ${entries.length} vectors from ${params.vectors}`);
    }
    const loadSamples: number[] = [os.loadavg()[0]!];
    const sampler = setInterval(() => loadSamples.push(os.loadavg()[0]!), 15_000);
    sampler.unref();
    let chromaServerVersion: string | undefined;
    let chroma: RetrieverContext["chroma"];
    let libraryDefault: ModelName | undefined;
    if (specs.some((s) => s.needsChroma)) {
      const server = await scratch.startServer();
      const client = new ChromaClient({ host: server.host, port: server.port });
      chromaServerVersion = await client.version();
      chroma = { url: server.url, client };
      log(`Chroma ${chromaServerVersion} at ${server.url}`);
      libraryDefault = await libraryDefaultModel(server.url, tmpDir, ids);
      log(`new Memory() embeds with ${ids[libraryDefault]} (${libraryDefault})`);
    }
    const defaultModel: ModelName = params.model === "default" ? (libraryDefault ?? "static") : params.model;
    const ctx: RetrieverContext = {
      embeddings: caches[defaultModel],
      defaultModel,
      libraryDefault: libraryDefault ?? defaultModel,
      embeddingsFor: (model) => caches[model],
      modelIds: ids,
      tmpDir,
      ...(chroma ? { chroma } : {}),
    };

    const judgeSettings = judgeConfig(process.env, params.judgeModel, params.judgeJudgeModel);
    const judge: JudgeRun | undefined = judgeSettings
      ? { config: judgeSettings, models: await openJudgeModels(judgeSettings), k: params.judgeK, concurrency: params.judgeConcurrency }
      : undefined;
    if (!judge && process.env.OPENAI_BASE_URL) log("OPENAI_BASE_URL is set: add --judge-model <name> to run the LLM judge (J).");
    const judged = (spec: SystemSpec) =>
      judge && (params.judgeSystems ? params.judgeSystems.includes(spec.id) : (spec.group ?? "system") === "system") ? judge : undefined;
    const results: SystemResult[] = [];
    for (const spec of specs) results.push(await runSystem(spec, ctx, convs, params.perQuestion, judged(spec)));
    clearInterval(sampler);
    loadSamples.push(os.loadavg()[0]!);

    const byCategory: Record<string, number> = {};
    for (const c of CATEGORY_IDS) byCategory[c] = questions.filter((q) => q.category === c).length;
    const fullContextTokens =
      convs.reduce((sum, c) => sum + c.questions.length * c.turns.reduce((n, t) => n + tokensOf(turnContent(t)), 0), 0) /
      Math.max(1, questions.length);
    const { out, perQuestion: _perQuestion, ...parameters } = params;
    if (!judge) {
      delete parameters.judgeModel;
      delete parameters.judgeJudgeModel;
    }
    const report: Report = {
      benchmark: "locomo",
      command: commandLine(process.argv.slice(2)),
      machine,
      ...(chromaServerVersion ? { chromaServerVersion, chromadbClient: chromadbVersion() } : {}),
      parameters: { ...parameters, ks: KS },
      embeddings: {
        model:
          `${ids[defaultModel]}: ` +
          (defaultModel === "use-lite"
            ? "engram LocalEmbeddings (Universal Sentence Encoder Lite, 512-d)"
            : "engram StaticEmbeddings (static model distilled from USE-Lite, 512-d)") +
          (libraryDefault === defaultModel ? ", the library's default (new Memory())" : libraryDefault ? `, not the library's default (${ids[libraryDefault]})` : ""),
        defaultModel: ids[defaultModel],
        libraryDefault: libraryDefault ? ids[libraryDefault] : "not probed (no row embeds)",
        byModel: Object.fromEntries(MODEL_NAMES.map((m) => [ids[m], { ...caches[m].stats, seeded: seeded[m] ?? 0 }])),
      },
      load: {
        start: loadSamples[0]!,
        end: loadSamples[loadSamples.length - 1]!,
        mean: loadSamples.reduce((a, b) => a + b, 0) / loadSamples.length,
        max: Math.max(...loadSamples),
        samples: loadSamples.length,
        nice: os.getPriority(),
        cpus: os.cpus().length,
      },
      dataset: {
        conversations: convs.map((c) => c.sampleId),
        turns: convs.reduce((n, c) => n + c.turns.length, 0),
        sessions: convs.reduce((n, c) => n + new Set(c.turns.map((t) => t.session)).size, 0),
        questions: questions.length,
        byCategory,
        skipped: {
          adversarial: convs.reduce((n, c) => n + c.skipped.adversarial, 0),
          noEvidence: convs.reduce((n, c) => n + c.skipped.noEvidence, 0),
          droppedEvidenceIds: convs.reduce((n, c) => n + c.skipped.droppedIds, 0),
        },
        fullContextTokens,
      },
      reference: REFERENCE,
      results,
      notes: [
        "Each conversation is its own memory (one user); every turn is ingested in order before its questions are asked.",
        "Evidence cleaning: every D<session>:<turn> pattern is extracted (a stray colon as in \"D:11:26\" is tolerated), leading zeros stripped, ids not in the conversation dropped; a question left with no evidence is skipped.",
        "A shared photo's caption is part of the turn's text: \"<text> [shares a photo: <caption>]\".",
        "Systems rank top 25 once per question; R@5 and R@10 are read from the same ranking (mem0 included: one search with topK 25 per question).",
        "engram: one Memory per row over the run's Chroma server; each turn is one add in thread session_<n> (the session boost's unit) with the clock at the session's date + 1 s per turn of the session (the record's time, which the date boost and the resolution of relative dates read); questions at the conversation's last turn time.",
        `Rows without a model in their name embed with ${ids[defaultModel]}${libraryDefault === defaultModel ? ", what new Memory() uses (asked of the library at the start of the run)" : ""}; engram rows get each model's own ranker defaults, as Memory gives them.`,
        params.embeddingCache
          ? "Embeddings are cached by text across the run's systems (the model is deterministic): the first system to embed a text pays for it, so ingest and query times of later ones exclude the model (--no-embedding-cache for honest per-system times)."
          : "No embedding cache: every system embeds for itself; ingest and query times include the model.",
        "Query latency is one rank() call: question embedding (dense, engram, mem0) and the search.",
        "Add latency is one per-turn add call (engram, mem0: embedding of the turn unless cached, and the write); bm25 and dense index in bulk (-).",
        `Run under nice ${os.getPriority()} on ${os.cpus().length} cores shared with other work: 1-minute load average ${loadSamples[0]!.toFixed(1)} at the start, ${loadSamples[loadSamples.length - 1]!.toFixed(1)} at the end (mean ${(loadSamples.reduce((a, b) => a + b, 0) / loadSamples.length).toFixed(1)}, max ${Math.max(...loadSamples).toFixed(1)}); times are wall-clock under that load, CPU seconds per row beside them.`,
      ],
      totalSeconds: (performance.now() - started) / 1000,
    };

    await mkdir(out, { recursive: true });
    await writeFile(join(out, "locomo.json"), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(out, "locomo.md"), markdownReport(report));
    process.stdout.write(`\n${markdownTable(results)}\n\n${costTable(results)}\n\n${answerTable(results)}\n${judge ? `\n${judgeTable(results)}\n` : ""}`);
    log(`\nWrote ${join(out, "locomo.json")} and ${join(out, "locomo.md")} (${report.totalSeconds.toFixed(0)} s)`);
  } finally {
    await scratch.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`locomo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
