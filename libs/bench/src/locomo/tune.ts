/**
 * Chooses the recall ranker's weights on the LoCoMo dev half by leave-one-conversation-out
 * cross-validation, and reports the held-out figures (the only honest ones: a weight chosen on the
 * conversation it is scored on flatters it).
 *
 * 1. `collect` ingests every conversation into one Engram `Memory` (the default static model) and
 *    keeps, for each question, every turn with the parts of its score that do not depend on the
 *    weights (BM25, recency inputs, importance, entities), plus the cosine of question and turn
 *    under each embedding model (static and USE-Lite): written to `tune-samples.json`.
 * 2. For each fusion (relevance from the static cosine, USE-Lite's, both, rescaled or not), every
 *    fold holds one conversation out, picks the grid setting with the best recall@10 on the other
 *    four, and scores it on the held-out one. The fold replays Engram's own ranker
 *    (`rankCandidates` and the entity boost, imported from the library's source) on the same
 *    candidate pools it would see: the top `candidates` by cosine plus the top `candidates` by BM25.
 *
 *   node --import tsx src/locomo/tune.ts [--samples bench-results/tune-samples.json] [--out bench-results]
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { DEFAULT_RANKER, Memory, StaticEmbeddings, startChromaServer } from "engram";
import { embedWithUseLite } from "./use_lite_inline.js";
// The replay must be the ranker itself, not a copy that drifts: import it from the library's source.
import { rankCandidates, type Candidate, type RankerOptions } from "../../../engram/src/scoring/ranker.js";
import { boostByEntities, withEntities } from "../../../engram/src/scoring/entities.js";
import type { MemoryRecord } from "../../../engram/src/core/types.js";
import { CATEGORIES, CATEGORY_IDS, loadLocomo, type Category, type Conversation } from "./data.js";
import { recallAt } from "./metric.js";
import { turnContent } from "./retrievers.js";
import { Scratch } from "../scratch.js";
import type { Sample, Turn } from "./tune_samples.js";
import { crossValidate, type Fold } from "./cv.js";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const DEFAULT_DATA = resolve(REPO_ROOT, "../shared/bench/locomo/locomo-dev.json");


type Relevance = "static" | "use" | "both";

/** One point of the grid: the ranker's weights plus how relevance is made. */
export interface Setting {
  relevance: Relevance;
  /** Share of the USE-Lite cosine when relevance is "both". */
  mix: number;
  /** The ranker's `spread` (0: raw cosine). */
  spread: number;
  lexical: number;
  neighbour: number;
  recency: number;
  importance: number;
  boost: number;
}

const program = new Command()
  .option("--data <path>", "LoCoMo json", DEFAULT_DATA)
  .option("--out <dir>", "output folder", "bench-results")
  .option("--samples <file>", "reuse the samples saved by an earlier run (skips ingest and embedding)")
  .option("--vectors <file>", "keep USE-Lite's vectors here between runs (they take minutes to compute)")
  .option("--fusions <list>", "fusions to cross-validate (static, static-spread, use, use-spread, both, both-spread)", "static,static-spread,use,both-spread")
  .parse();
const opts = program.opts<{ data: string; out: string; samples?: string; vectors?: string; fusions: string }>();

let kept: Map<string, number[]> | undefined;
const samples: Sample[] = opts.samples ? (JSON.parse(await readFile(opts.samples, "utf8")) as Sample[]) : await collect();
await mkdir(opts.out, { recursive: true });
if (!opts.samples) await writeFile(join(opts.out, "tune-samples.json"), JSON.stringify(samples));

async function collect(): Promise<Sample[]> {
  const conversations = await loadLocomo(opts.data);
  const scratch = await Scratch.open("engram-tune-");
  const out: Sample[] = [];
  try {
    const server = await startChromaServer({ path: join(scratch.dir, "chroma") });
    try {
      let now = 0;
      const memory = new Memory({ dataDir: join(scratch.dir, "data"), chroma: { url: server.url }, clock: () => now, writes: "sync" });
      const models = { static: new StaticEmbeddings() };
      for (const conv of conversations) {
        await ingest(memory, conv, (t) => (now = t));
        const contents = conv.turns.map((t) => turnContent(t));
        const queries = conv.questions.map((q) => q.question);
        const vectors = {
          static: await models.static.embedDocuments([...contents, ...queries]),
          use: await keptVectors([...contents, ...queries], (texts) => embedWithUseLite(texts)),
        };
        const byDia = new Map(conv.turns.map((t, i) => [t.diaId, i]));
        for (const [qi, question] of conv.questions.entries()) {
          const hits = await memory.search(question.question, { userId: conv.sampleId, limit: 1_000, ranker: { candidates: 1_000 } });
          out.push({
            conv: conv.sampleId,
            category: question.category,
            query: question.question,
            evidence: question.evidence,
            now,
            turns: hits.map((h) => {
              const i = byDia.get(String(h.metadata.diaId))!;
              return {
                diaId: String(h.metadata.diaId),
                content: h.content,
                createdAt: h.createdAt,
                importance: h.importance,
                lexical: h.scoreParts.lexical,
                cosStatic: dot(vectors.static[contents.length + qi]!, vectors.static[i]!),
                cosUse: dot(vectors.use[contents.length + qi]!, vectors.use[i]!),
              };
            }),
          });
        }
        process.stderr.write(`${conv.sampleId}: ${conv.questions.length} questions, ${conv.turns.length} turns\n`);
      }
      await memory.close();
    } finally {
      await server.stop();
    }
  } finally {
    await scratch.close();
  }
  return out;
}

/** USE-Lite's vectors, kept in `--vectors` across runs when given (the model is deterministic). */
async function keptVectors(texts: string[], embed: (texts: string[]) => Promise<number[][]>): Promise<number[][]> {
  if (!opts.vectors) return embed(texts);
  kept ??= new Map(existsSync(opts.vectors) ? (JSON.parse(await readFile(opts.vectors, "utf8")) as Array<[string, number[]]>) : []);
  const missing = [...new Set(texts.filter((t) => !kept!.has(t)))];
  if (missing.length > 0) {
    const fresh = await embed(missing);
    missing.forEach((t, i) => kept!.set(t, fresh[i]!));
    await writeFile(opts.vectors, JSON.stringify([...kept]));
  }
  return texts.map((t) => kept!.get(t)!);
}

function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += a[i]! * b[i]!;
  return sum;
}

async function ingest(memory: Memory, conv: Conversation, setNow: (t: number) => void): Promise<void> {
  let session = -1;
  let position = 0;
  for (const turn of conv.turns) {
    position = turn.session === session ? position + 1 : 0;
    session = turn.session;
    setNow(turn.date + position * 1_000);
    await memory.add([{ role: "user", content: turnContent(turn) }], {
      userId: conv.sampleId,
      threadId: `session_${turn.session}`,
      metadata: { diaId: turn.diaId },
    });
  }
}

// ---- replay -------------------------------------------------------------------------------------

interface Prepared {
  sample: Sample;
  records: MemoryRecord[];
  byDia: Map<string, number>;
}
// One record per turn, shared by the questions of its conversation (tagging entities is slow).
const records = new Map<string, MemoryRecord>();
const recordOf = (conv: string, t: Turn): MemoryRecord => {
  const key = `${conv}/${t.diaId}`;
  let record = records.get(key);
  if (!record) {
    record = { id: t.diaId, content: t.content, createdAt: t.createdAt, importance: t.importance, metadata: withEntities({ diaId: t.diaId }, t.content) } as unknown as MemoryRecord;
    records.set(key, record);
  }
  return record;
};
const prepared: Prepared[] = samples.map((sample) => ({
  sample,
  records: sample.turns.map((t) => recordOf(sample.conv, t)),
  byDia: new Map(sample.turns.map((t, i) => [t.diaId, i])),
}));

function neighboursOf(diaId: string): string[] {
  const [session, turn] = diaId.slice(1).split(":").map(Number);
  return [`D${session}:${turn! - 1}`, `D${session}:${turn! + 1}`];
}

function similarity(turn: Turn, setting: Setting): number {
  if (setting.relevance === "static") return turn.cosStatic;
  if (setting.relevance === "use") return turn.cosUse;
  return (1 - setting.mix) * turn.cosStatic + setting.mix * turn.cosUse;
}

/** The candidate pools of one question: the ranker's vector and BM25 retrievers, `candidates` each. */
const pools = new Map<string, Candidate[][]>();
function poolsFor(setting: Setting): Candidate[][] {
  const key = `${setting.relevance}:${setting.mix}`;
  let found = pools.get(key);
  if (found) return found;
  const n = DEFAULT_RANKER.candidates;
  found = prepared.map(({ sample, records }) => {
    const sims = sample.turns.map((t) => similarity(t, setting));
    const byDense = sims.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s).slice(0, n);
    const byLexical = sample.turns
      .map((t, i) => ({ s: t.lexical, i }))
      .filter((x) => x.s > 0)
      .sort((a, b) => b.s - a.s)
      .slice(0, n);
    const lexicalKept = new Set(byLexical.map((x) => x.i));
    const chosen = [...new Set([...byDense.map((x) => x.i), ...byLexical.map((x) => x.i)])];
    return chosen.map((i) => ({ record: records[i]!, similarity: sims[i]!, lexical: lexicalKept.has(i) ? sample.turns[i]!.lexical : 0 }));
  });
  pools.set(key, found);
  return found;
}

/** Recall@k of each question under one setting, k = 5, 10, 25. */
const memo = new Map<string, Array<[number, number, number]>>();
function scoreAll(setting: Setting): Array<[number, number, number]> {
  const key = JSON.stringify(setting);
  const cached = memo.get(key);
  if (cached) return cached;
  process.stderr.write(".");
  const poolList = poolsFor(setting);
  const ranker: Required<RankerOptions> = {
    ...DEFAULT_RANKER,
    dates: 0,
    session: 0,
    relevance: 1,
    spread: setting.spread,
    lexical: setting.lexical,
    recency: setting.recency,
    importance: setting.importance,
    neighbour: setting.neighbour,
  };
  const result = prepared.map(({ sample }, qi) => {
    const ranked = boostByEntities(sample.query, rankCandidates(poolList[qi]!.map((c) => ({ ...c })), sample.now, ranker, neighboursOf), setting.boost);
    const ids = ranked.slice(0, 25).map((r) => r.record.id);
    return [recallAt(sample.evidence, ids, 5), recallAt(sample.evidence, ids, 10), recallAt(sample.evidence, ids, 25)] as [number, number, number];
  });
  memo.set(key, result);
  return result;
}

function grid(fusion: string): Setting[] {
  const [relevance, scaleName] = fusion.split("-") as [Relevance, string | undefined];
  const settings: Setting[] = [];
  // The weights that move recall most; recency, importance and the entity boost stay at the
  // library's defaults (a full grid over them took too long on 2 cores; see docs/benchmarks.md).
  const { recency, importance } = DEFAULT_RANKER;
  const boost = 0.1;
  for (const mix of relevance === "both" ? [0.5] : [0])
    for (const spread of scaleName === "spread" ? [2, 4] : [0])
      for (const lexical of [0.4, 0.6, 1, 1.5, 2.5, 4, 6])
        for (const neighbour of [0.15, 0.3, 0.5, 0.8]) settings.push({ relevance, mix, spread, lexical, neighbour, recency, importance, boost });
  return settings;
}

const convIds = [...new Set(samples.map((s) => s.conv))];
const report: Record<string, unknown> = { questions: samples.length, conversations: convIds, candidates: DEFAULT_RANKER.candidates, fusions: {} };
const lines: string[] = [];
for (const fusion of opts.fusions.split(",").map((f) => f.trim())) {
  const settings = grid(fusion);
  const started = performance.now();
  const cv = crossValidate(
    samples.map((s) => s.conv),
    settings,
    (setting) => scoreAll(setting).map((r) => r[1]),
  );
  // The held-out figures of each fold's choice, at every k and per category.
  const heldOut = cv.folds.map((fold: Fold<Setting>) => {
    const scores = scoreAll(fold.chosen);
    const idx = samples.map((s, i) => (s.conv === fold.heldOut ? i : -1)).filter((i) => i >= 0);
    const mean = (k: 0 | 1 | 2, filter: (i: number) => boolean = () => true) => {
      const chosen = idx.filter(filter);
      return (100 * chosen.reduce((sum, i) => sum + scores[i]![k], 0)) / Math.max(1, chosen.length);
    };
    return {
      heldOut: fold.heldOut,
      chosen: fold.chosen,
      trainR10: fold.trainScore * 100,
      r5: mean(0),
      r10: mean(1),
      r25: mean(2),
      byCategory: Object.fromEntries(CATEGORY_IDS.map((c) => [c, mean(1, (i) => samples[i]!.category === c)])),
      questions: idx.length,
    };
  });
  const avg = (pick: (f: (typeof heldOut)[number]) => number) => heldOut.reduce((s, f) => s + pick(f), 0) / heldOut.length;
  const r10s = heldOut.map((f) => f.r10);
  const best = cv.inSample;
  const bestScores = scoreAll(best.setting);
  const inSample = (k: 0 | 1 | 2) => (100 * bestScores.reduce((s, r) => s + r[k], 0)) / bestScores.length;
  const summary = {
    settings: settings.length,
    heldOutMean: { r5: avg((f) => f.r5), r10: avg((f) => f.r10), r25: avg((f) => f.r25) },
    heldOutByCategory: Object.fromEntries(CATEGORY_IDS.map((c) => [CATEGORIES[c], avg((f) => f.byCategory[c]!)])),
    spread: { min: Math.min(...r10s), max: Math.max(...r10s), sd: Math.sqrt(r10s.reduce((s, x) => s + (x - avg((f) => f.r10)) ** 2, 0) / r10s.length) },
    inSample: { setting: best.setting, r5: inSample(0), r10: inSample(1), r25: inSample(2) },
    folds: heldOut,
  };
  (report.fusions as Record<string, unknown>)[fusion] = summary;
  const fmt = (x: number) => x.toFixed(1);
  lines.push(
    `| ${fusion} | ${fmt(summary.heldOutMean.r5)} | ${fmt(summary.heldOutMean.r10)} | ${fmt(summary.heldOutMean.r25)} | ` +
      `${fmt(summary.spread.min)}-${fmt(summary.spread.max)} (sd ${fmt(summary.spread.sd)}) | ` +
      `${CATEGORY_IDS.map((c) => fmt(summary.heldOutByCategory[CATEGORIES[c]]!)).join(" | ")} | ${fmt(summary.inSample.r10)} | ` +
      `${heldOut.map((f) => describe(f.chosen)).join("; ")} |`,
  );
  process.stderr.write(`${fusion}: ${settings.length} settings, held-out R@10 ${fmt(summary.heldOutMean.r10)} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}

function describe(s: Setting): string {
  return `${s.relevance === "both" ? `mix ${s.mix} ` : ""}${s.spread ? `spread ${s.spread} ` : ""}lex ${s.lexical} nb ${s.neighbour} rec ${s.recency} imp ${s.importance} ent ${s.boost}`;
}

const table = [
  `${samples.length} questions; leave-one-conversation-out over ${convIds.length} conversations: each fold's weights chosen on the other four (best R@10), scored on the held-out one; mean of the five held-out scores.`,
  "",
  `| fusion | R@5 | R@10 | R@25 | held-out R@10 range | ${CATEGORY_IDS.map((c) => `${CATEGORIES[c]} R@10`).join(" | ")} | in-sample best R@10 | chosen per fold |`,
  `|---|---:|---:|---:|---|${CATEGORY_IDS.map(() => "---:").join("|")}|---:|---|`,
  ...lines,
].join("\n");
console.log(table);
await writeFile(join(opts.out, "tune.json"), JSON.stringify(report, null, 2));
await writeFile(join(opts.out, "tune.md"), `${table}\n`);
