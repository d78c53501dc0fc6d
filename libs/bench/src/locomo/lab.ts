/**
 * The recall lab: Engram's ranking pipeline replayed in process over the LoCoMo dev conversations,
 * with every new part (time-aware recall, pseudo-relevance feedback, session context, MMR, the
 * entity boost and recency re-fitted) switched on one at a time, each part's weights chosen by
 * leave-one-conversation-out cross-validation ({@link crossValidate}: a fold's weights are chosen
 * on the other four conversations, scored on the held-out one). Prints the ablation table that
 * docs/benchmarks.md quotes.
 *
 * It is the library's own code, imported from its source (ranker, BM25 index, entity tagger and
 * boost, date resolution, PRF, session boost, MMR), fed what `Memory.search` feeds it: the top
 * `candidates` turns by cosine plus the top `candidates` by BM25 of one user's memories (one
 * conversation), each turn's `createdAt` = session date + 1 s per turn, the question asked at the
 * conversation's last turn. Vectors are cached on disk by model (the models are deterministic).
 *
 *   node --import tsx src/locomo/lab.ts [--model use-lite|static] [--variants base,dates,...]
 *     [--vectors <cache>] [--name <outputs' name>]
 *
 * `--vectors` may be a cache written by an experiment (static_model/vocab_ext.ts, asym_query.py):
 * every text found there is not embedded again. The rows `wide`, `dprf` and `late` are issue 13's
 * attempts to close the static model's gap (docs/embeddings.md, "Static or USE-Lite: the figures");
 * so are `qexp` (query expansion with the static table's neighbouring pieces) and the "both
 * vectors" rows `second`, `dprf2` and `both`, which read a second vector cache (`--second`: the
 * memories' USE-Lite vectors and the question's vector from static_model/both_map.py, or its true
 * USE-Lite vector for the bound; `--second-pool` also takes the second cosine's top candidates into
 * the pool). `--dump-texts` writes the dev texts for the Python scripts of static_model/.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { finishRanking, rankCandidates, scoreCandidates, DEFAULT_RANKER, STATIC_RANKER, type Candidate, type Ranked, type ResolvedRankerOptions } from "../../../engram/src/scoring/ranker.js";
import { boostByEntities, withEntities } from "../../../engram/src/scoring/entities.js";
import { withDates } from "../../../engram/src/scoring/dates.js";
import { LexicalIndex } from "../../../engram/src/scoring/lexical_index.js";
import { expansionTerms } from "../../../engram/src/scoring/feedback.js";
import { tokenize as tokenizeTerms } from "../../../engram/src/scoring/tokenize.js";
import { diversify } from "../../../engram/src/scoring/context.js";
import type { MemoryRecord } from "../../../engram/src/core/types.js";
import { CATEGORIES, CATEGORY_IDS, loadLocomo, type Category } from "./data.js";
import { devConversations, findLocomoData, MISSING_DATA_HELP } from "./data_path.js";
import { recallAt } from "./metric.js";
import { crossValidate } from "./cv.js";
import { Bm25Index } from "./bm25.js";
import { answerRecallAt } from "./answer_recall.js";
import { embedWithUseLite } from "./use_lite_inline.js";

/** As retrievers.ts's turnContent (not imported: that module loads the built package). */
const turnContent = (turn: { speaker: string; text: string }): string => `${turn.speaker}: ${turn.text}`;

const program = new Command()
  .option("--data <path>", "LoCoMo json (default: see data_path.ts)")
  .option("--model <name>", "embedding model: use-lite (the default model) or static", "use-lite")
  .option("--runtime <name>", "with --model use-lite: tfjs (in process, the cache's) or onnx (LocalEmbeddings on ONNX Runtime, its own cache)", "tfjs")
  .option("--vectors <file>", "vector cache (default bench-results/lab-vectors-<model>.json, -onnx for --runtime onnx)")
  .option("--static-model <file>", "with --model static: another table file (e.g. the unmapped table, scripts/build_static_model.mjs --unmapped)")
  .option("--out <dir>", "output folder", "bench-results")
  .option("--variants <list>", "rows of the ablation (see VARIANTS)", "")
  .option("--name <name>", "names the output files lab-<name>*.md (default: the model)")
  .option("--second <file>", "a second vector cache (every text in it), mixed into the cosine by the `second` weight")
  .option("--second-pool", "also take the top candidates by the second vectors' cosine into the pool")
  .option("--dump-texts <file>", "writes {questions, turns} of the dev conversations as JSON and exits")
  .parse();
const opts = program.opts<{ data?: string; model: string; runtime: string; vectors?: string; staticModel?: string; out: string; variants: string; name?: string; second?: string; secondPool?: boolean; dumpTexts?: string }>();
const outName = opts.name ?? opts.model;

const dataPath = findLocomoData(opts.data);
if (!dataPath) {
  console.log(MISSING_DATA_HELP);
  process.exit(0);
}
const conversations = devConversations(await loadLocomo(dataPath));
await mkdir(opts.out, { recursive: true });
if (opts.dumpTexts) {
  const turns = conversations.flatMap((c) => c.turns.map((t) => turnContent(t)));
  const questionTexts = conversations.flatMap((c) => c.questions.map((q) => q.question));
  const convs = conversations.map((c) => ({ id: c.sampleId, questions: c.questions.map((q) => q.question), turns: c.turns.map((t) => turnContent(t)) }));
  await writeFile(opts.dumpTexts, JSON.stringify({ questions: [...new Set(questionTexts)], turns: [...new Set(turns)], convs }));
  process.exit(0);
}
/**
 * The second vectors (`--second`): "keep both vectors" designs, e.g. memories' USE-Lite vectors
 * (embedded off the turn's path) against the question's true USE-Lite vector (the upper bound) or
 * its static vector mapped into USE-Lite's space (static_model/both_map.py).
 */
const second = opts.second ? new Map<string, number[]>(JSON.parse(await readFile(opts.second, "utf8")) as Array<[string, number[]]>) : undefined;
function secondVector(text: string): number[] {
  const v = second!.get(text);
  if (!v) throw new Error(`--second: no vector for ${JSON.stringify(text.slice(0, 60))}`);
  return v;
}

// ---- vectors, cached by model and text ----------------------------------------------------------
const onnx = opts.model === "use-lite" && opts.runtime === "onnx";
if (opts.runtime !== "tfjs" && opts.runtime !== "onnx") throw new Error(`--runtime: tfjs or onnx, got ${opts.runtime}`);
const cachePath = opts.vectors ?? join(opts.out, `lab-vectors-${opts.model}${onnx ? "-onnx" : ""}.json`);
const cache = new Map<string, number[]>(existsSync(cachePath) ? (JSON.parse(await readFile(cachePath, "utf8")) as Array<[string, number[]]>) : []);
async function embed(texts: string[]): Promise<number[][]> {
  const missing = [...new Set(texts.filter((t) => !cache.has(t)))];
  if (missing.length > 0) {
    const started = performance.now();
    let fresh: number[][];
    if (onnx) {
      const { LocalEmbeddings } = await import("../../../engram/src/embeddings/local.js");
      const model = new LocalEmbeddings({ runtime: "onnx" });
      fresh = await model.embedDocuments(missing).finally(() => model.close());
    } else if (opts.model === "use-lite") fresh = await embedWithUseLite(missing);
    else if (opts.model === "static") {
      const { StaticEmbeddings } = await import("../../../engram/src/embeddings/static.js");
      const { STATIC_MODEL_ID } = await import("../../../engram/src/embeddings/static.js");
      // The unmapped table names itself `<id>+unmapped` (static_build.ts).
      const table = opts.staticModel ? { modelPath: opts.staticModel, modelId: `${STATIC_MODEL_ID}+unmapped` } : {};
      fresh = await new StaticEmbeddings(table).embedDocuments(missing);
    } else throw new Error(`unknown --model ${opts.model}`);
    missing.forEach((t, i) => cache.set(t, normalize(fresh[i]!)));
    await writeFile(cachePath, JSON.stringify([...cache]));
    process.stderr.write(`embedded ${missing.length} texts with ${opts.model} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  }
  return texts.map((t) => cache.get(t)!);
}
function normalize(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / n);
}
function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i += 1) s += a[i]! * b[i]!;
  return s;
}

// ---- what Memory would hold and retrieve ---------------------------------------------------------
interface Question {
  conv: string;
  category: Category;
  query: string;
  evidence: string[];
  answer: string;
  /** The peers' rankings (plain BM25 as the reference row, cosine alone), best first. */
  bm25: string[];
  dense: string[];
  now: number;
  /** Candidate pool (top N by cosine + top N by BM25), and the PRF pool's extra lexical hits. */
  pool: Candidate[];
  vectorOf: Map<string, number[]>;
  /** The question's and the memories' second vectors (`--second`), when given. */
  secondQuery?: number[];
  secondOf?: Map<string, number[]>;
  lexical: LexicalIndex;
  neighbours: (id: string) => string[];
}
const N = DEFAULT_RANKER.candidates;
const questions: Question[] = [];
const textsOf = new Map<string, Map<string, string>>();
for (const conv of conversations) {
  const contents = conv.turns.map((t) => turnContent(t));
  const vectors = await embed([...contents, ...conv.questions.map((q) => q.question)]);
  const records: MemoryRecord[] = [];
  let session = -1;
  let position = 0;
  for (const [i, turn] of conv.turns.entries()) {
    position = turn.session === session ? position + 1 : 0;
    session = turn.session;
    const createdAt = turn.date + position * 1_000;
    const metadata = withDates(withEntities({ diaId: turn.diaId }, contents[i]!), contents[i]!, createdAt);
    records.push({
      id: turn.diaId,
      scope: { userId: conv.sampleId, threadId: `session_${turn.session}` },
      kind: "episode",
      content: contents[i]!,
      importance: 0.5,
      createdAt,
      updatedAt: createdAt,
      lastAccessedAt: createdAt,
      source: { threadId: `session_${turn.session}` },
      metadata,
    } as unknown as MemoryRecord);
  }
  const lexical = new LexicalIndex();
  lexical.upsert(records.map((r) => ({ id: r.id, text: r.content })));
  const byId = new Map(records.map((r, i) => [r.id, i]));
  const vectorOf = new Map(records.map((r, i) => [r.id, vectors[i]!]));
  const secondOf = second ? new Map(records.map((r) => [r.id, normalize(secondVector(r.content))])) : undefined;
  const neighbours = (id: string): string[] => {
    const i = byId.get(id)!;
    return [records[i - 1], records[i + 1]].filter((r) => r && r.scope.threadId === records[i]!.scope.threadId).map((r) => r!.id);
  };
  const now = records.at(-1)!.createdAt;
  // The reference BM25 of the run's peers: document = session date + speaker + text (no caption).
  const reference = new Bm25Index(conv.turns.map((t) => `${t.dateText} ${t.speaker}: ${t.rawText}`));
  const textOf = new Map(records.map((r) => [r.id, r.content]));
  textsOf.set(conv.sampleId, textOf);
  for (const [qi, q] of conv.questions.entries()) {
    const qv = vectors[contents.length + qi]!;
    const sims = records.map((_, i) => dot(qv, vectors[i]!));
    const pool = new Map<string, Candidate>();
    for (const i of sims.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s).slice(0, N).map((x) => x.i)) {
      pool.set(records[i]!.id, { record: records[i]!, similarity: sims[i]!, lexical: 0 });
    }
    if (secondOf && opts.secondPool) {
      const q2 = normalize(secondVector(q.question));
      const sims2 = records.map((r) => dot(q2, secondOf.get(r.id)!));
      for (const i of sims2.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s).slice(0, N).map((x) => x.i)) {
        if (!pool.has(records[i]!.id)) pool.set(records[i]!.id, { record: records[i]!, similarity: sims[i]!, lexical: 0 });
      }
    }
    for (const hit of lexical.query(q.question, N)) {
      const i = byId.get(hit.id)!;
      const c = pool.get(hit.id) ?? { record: records[i]!, similarity: sims[i]!, lexical: 0 };
      c.lexical = hit.score;
      pool.set(hit.id, c);
    }
    const bm25 = reference.top(q.question, 25).map((i) => records[i]!.id);
    const dense = sims.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s).slice(0, 25).map((x) => records[x.i]!.id);
    questions.push({ conv: conv.sampleId, category: q.category, query: q.question, evidence: q.evidence, answer: q.answer, bm25, dense, now, pool: [...pool.values()], vectorOf, lexical, neighbours, secondOf, secondQuery: second ? normalize(secondVector(q.question)) : undefined });
  }
}
process.stderr.write(`${questions.length} questions over ${conversations.length} conversations\n`);

// ---- the pipeline --------------------------------------------------------------------------------
export interface Setting {
  lexical: number;
  neighbour: number;
  spread: number;
  recency: number;
  entity: number;
  date: number;
  /** PRF: weight of the expansion query's BM25 against the question's own (0: off). */
  prf: number;
  prfDocs: number;
  session: number;
  /** MMR's lambda over the top 25 (1: off). */
  mmr: number;
  /**
   * Dense feedback (Rocchio on the vectors): each candidate's cosine gains this times its cosine
   * with the mean vector of the first pass' top `prfDocs` memories (0: off).
   */
  dprf: number;
  /**
   * Late interaction with the static table's piece vectors: each candidate's cosine gains this
   * times the weighted mean, over the question's content pieces, of the best cosine with one of the
   * memory's content pieces (0: off).
   */
  late: number;
  /**
   * Query expansion with the static table's neighbouring pieces: each content word of the question
   * that is a whole piece brings its `qexpK` nearest whole-word pieces (cosine of the centered piece
   * vectors), searched by BM25 as extra terms weighted by that cosine, added to the candidates'
   * lexical score with this weight (0: off), as PRF adds its expansion.
   */
  qexp: number;
  qexpK: number;
  /**
   * Dense feedback in the second vectors' space (`--second`, the memories' USE-Lite vectors): each
   * candidate's cosine gains this times the cosine of its second vector with the mean second vector
   * of the first pass' top `prfDocs` memories. The question's own second vector is not used: a
   * pseudo-query in USE-Lite's space with no USE-Lite on the query's path (0: off).
   */
  dprf2: number;
  /** The cosine becomes (1 - second) x the model's + second x the second vectors' (0: off). */
  second: number;
}
const base = opts.model === "static" ? STATIC_RANKER : DEFAULT_RANKER;
const DEFAULT: Setting = { lexical: base.lexical, neighbour: base.neighbour, spread: base.spread, recency: base.recency, entity: 0.1, date: 0, prf: 0, prfDocs: 10, session: 0, mmr: 1, dprf: 0, late: 0, second: 0, qexp: 0, qexpK: 3, dprf2: 0 };

/**
 * The ranker's first half (`scoreCandidates`) per question, shared by the settings that differ only
 * in what follows it; then what `Memory.search` runs after it, in its order: `finishRanking` (date
 * and session boosts, duplicates) and the entity boost. MMR (not in the library) comes last.
 */
const firstStage = new Map<string, Ranked[][]>();
function rankQuestion(q: Question, qi: number, s: Setting): Ranked[] {
  const key = JSON.stringify([s.lexical, s.neighbour, s.spread, s.recency, s.prf, s.prfDocs, s.dprf, s.late, s.second, s.qexp, s.qexpK, s.dprf2]);
  let stage = firstStage.get(key);
  if (!stage) firstStage.set(key, (stage = []));
  const scored = (stage[qi] ??= scoreFirst(q, qi, s));
  let ranked = finishRanking(scored, q.now, rankerOf(s), q.query);
  ranked = boostByEntities(q.query, ranked, s.entity);
  if (s.mmr < 1) ranked = diversify(ranked, (a, b) => dot(q.vectorOf.get(a)!, q.vectorOf.get(b)!), s.mmr, 25);
  return ranked;
}

function rankerOf(s: Setting): ResolvedRankerOptions {
  return { ...base, lexical: s.lexical, neighbour: s.neighbour, spread: s.spread, recency: s.recency, dates: s.date, session: s.session };
}

function scoreFirst(q: Question, qi: number, s: Setting): Ranked[] {
  const ranker = rankerOf(s);
  let pool = q.pool;
  if (s.prf > 0) {
    // First pass, then BM25 of the terms the best first-pass memories share (RM3-style expansion).
    const first = rankCandidates(pool.map((c) => ({ ...c })), q.now, ranker, q.neighbours).slice(0, s.prfDocs);
    const terms = expansionTerms(q.query, first.map((r) => ({ text: r.record.content, weight: r.score })));
    const extra = new Map(q.lexical.queryTerms(terms, N).map((h) => [h.id, h.score]));
    const top = Math.max(...q.pool.map((c) => c.lexical), 1e-9);
    const topExtra = Math.max(...extra.values(), 1e-9);
    pool = q.pool.map((c) => ({ ...c, lexical: c.lexical + s.prf * (top / topExtra) * (extra.get(c.record.id) ?? 0) }));
  }
  if (s.qexp > 0) {
    const terms = neighbourTerms(q.query, s.qexpK);
    const extra = new Map(q.lexical.queryTerms(terms, N).map((h) => [h.id, h.score]));
    const top = Math.max(...pool.map((c) => c.lexical), 1e-9);
    const topExtra = Math.max(...extra.values(), 1e-9);
    pool = pool.map((c) => ({ ...c, lexical: c.lexical + s.qexp * (top / topExtra) * (extra.get(c.record.id) ?? 0) }));
  }
  if (s.second > 0) {
    if (!q.secondQuery || !q.secondOf) throw new Error("the `second` weight needs --second <cache>");
    const w = s.second;
    pool = pool.map((c) => ({ ...c, similarity: (1 - w) * c.similarity + w * dot(q.secondQuery!, q.secondOf!.get(c.record.id)!) }));
  }
  if (s.late > 0) {
    const query = lateTokens(q.query);
    const scores = (lateOf[qi] ??= new Map());
    pool = pool.map((c) => {
      let late = scores.get(c.record.id);
      if (late === undefined) scores.set(c.record.id, (late = lateScore(query, lateTokens(c.record.content))));
      return { ...c, similarity: c.similarity + s.late * late };
    });
  }
  if (s.dprf > 0) {
    const first = rankCandidates(pool.map((c) => ({ ...c })), q.now, ranker, q.neighbours).slice(0, s.prfDocs);
    const centroid = new Array<number>(q.vectorOf.get(first[0]!.record.id)!.length).fill(0);
    for (const r of first) q.vectorOf.get(r.record.id)!.forEach((x, d) => (centroid[d]! += x));
    const unit = normalize(centroid);
    pool = pool.map((c) => ({ ...c, similarity: c.similarity + s.dprf * dot(unit, q.vectorOf.get(c.record.id)!) }));
  }
  if (s.dprf2 > 0) {
    if (!q.secondOf) throw new Error("the `dprf2` weight needs --second <cache>");
    const first = rankCandidates(pool.map((c) => ({ ...c })), q.now, ranker, q.neighbours).slice(0, s.prfDocs);
    const centroid = new Array<number>(q.secondOf.get(first[0]!.record.id)!.length).fill(0);
    for (const r of first) q.secondOf.get(r.record.id)!.forEach((x, d) => (centroid[d]! += x));
    const unit = normalize(centroid);
    pool = pool.map((c) => ({ ...c, similarity: c.similarity + s.dprf2 * dot(unit, q.secondOf!.get(c.record.id)!) }));
  }
  return scoreCandidates(pool.map((c) => ({ ...c })), q.now, ranker, q.neighbours);
}

// ---- late interaction over the static table's pieces (the "late" setting) ----------------------
const { loadStaticModel } = await import("../../../engram/src/embeddings/static_model.js");
const { SentencePieceTokenizer } = await import("../../../engram/src/embeddings/tokenizer.js");
const { float16Table } = await import("../../../engram/src/embeddings/float16.js");
const staticModel = await loadStaticModel();
const staticTokenizer = new SentencePieceTokenizer(staticModel.header.vocabulary);
const halfTable = float16Table();
/** Pieces below this SIF weight (the 450 or so most frequent) take no part: function words. */
const LATE_MIN_WEIGHT = 0.3;
const pieceUnit = new Map<number, Float32Array>();
function pieceVector(id: number): Float32Array {
  let v = pieceUnit.get(id);
  if (!v) {
    const dims = staticModel.header.dimensions;
    v = new Float32Array(dims);
    for (let d = 0; d < dims; d += 1) v[d] = halfTable[staticModel.vectors[id * dims + d]!]!;
    const n = Math.hypot(...v) || 1;
    for (let d = 0; d < dims; d += 1) v[d]! /= n;
    pieceUnit.set(id, v);
  }
  return v;
}
interface LateTokens {
  vectors: Float32Array[];
  weights: number[];
}
const lateCache = new Map<string, LateTokens>();
function lateTokens(text: string): LateTokens {
  let t = lateCache.get(text);
  if (!t) {
    const ids = [...new Set(staticTokenizer.encode(text.replace(/\s+/g, " ").trim() || "."))].filter((id) => (staticModel.weights[id] ?? 0) >= LATE_MIN_WEIGHT);
    t = { vectors: ids.map(pieceVector), weights: ids.map((id) => staticModel.weights[id]!) };
    lateCache.set(text, t);
  }
  return t;
}
// ---- query expansion with neighbouring pieces (the "qexp" setting) ------------------------------
/** Whole-word pieces ("▁word", 3 letters or more, not among the most frequent): expansion terms. */
const wordPieces = staticModel.header.vocabulary
  .map((entry, id) => ({ id, piece: Array.isArray(entry) ? String(entry[0]) : String(entry) }))
  .filter(({ id, piece }) => /^\u2581[a-z]{3,}$/.test(piece) && (staticModel.weights[id] ?? 0) >= LATE_MIN_WEIGHT && tokenizeTerms(piece.slice(1)).length === 1);
const neighbourCache = new Map<string, Array<[string, number]>>();
function neighbourTerms(query: string, k: number): Array<[string, number]> {
  const key = `${k}\u0000${query}`;
  let terms = neighbourCache.get(key);
  if (!terms) {
    const asked = new Set(tokenizeTerms(query));
    const best = new Map<string, number>();
    const ids = new Set(staticTokenizer.encode(query.replace(/\s+/g, " ").trim() || "."));
    for (const { id } of wordPieces.filter((w) => ids.has(w.id))) {
      const qv = pieceVector(id);
      const scored = wordPieces
        .filter((w) => w.id !== id)
        .map((w) => {
          const v = pieceVector(w.id);
          let dotted = 0;
          for (let d = 0; d < qv.length; d += 1) dotted += qv[d]! * v[d]!;
          return { term: tokenizeTerms(w.piece.slice(1))[0]!, cos: dotted };
        })
        .filter((x) => !asked.has(x.term))
        .sort((a, b) => b.cos - a.cos)
        .slice(0, k);
      for (const { term, cos } of scored) if (cos > 0) best.set(term, Math.max(best.get(term) ?? 0, cos));
    }
    terms = [...best];
    neighbourCache.set(key, terms);
  }
  return terms;
}

/** Late scores by question and memory (they depend on neither the weights nor the pool). */
const lateOf: Array<Map<string, number>> = [];
function lateScore(query: LateTokens, doc: LateTokens): number {
  if (query.vectors.length === 0 || doc.vectors.length === 0) return 0;
  let total = 0;
  let weights = 0;
  for (let i = 0; i < query.vectors.length; i += 1) {
    const qv = query.vectors[i]!;
    let best = -1;
    for (const dv of doc.vectors) {
      let s = 0;
      for (let d = 0; d < qv.length; d += 1) s += qv[d]! * dv[d]!;
      if (s > best) best = s;
    }
    total += query.weights[i]! * best;
    weights += query.weights[i]!;
  }
  return total / weights;
}

const memo = new Map<string, Array<[number, number, number]>>();
function scoreAll(s: Setting): Array<[number, number, number]> {
  const key = JSON.stringify(s);
  let out = memo.get(key);
  if (!out) {
    out = questions.map((q, qi) => {
      const ids = rankQuestion(q, qi, s).slice(0, 25).map((r) => r.record.id);
      return [recallAt(q.evidence, ids, 5), recallAt(q.evidence, ids, 10), recallAt(q.evidence, ids, 25)] as [number, number, number];
    });
    memo.set(key, out);
  }
  return out;
}

function product(baseSetting: Setting, axes: Partial<Record<keyof Setting, number[]>>): Setting[] {
  let settings: Setting[] = [baseSetting];
  for (const [key, values] of Object.entries(axes) as Array<[keyof Setting, number[]]>) {
    settings = settings.flatMap((s) => values.map((v) => ({ ...s, [key]: v })));
  }
  return settings;
}

/** The later rows' fixed axes: what "final" never chose (recency, entity) at 0, dates at its choice. */
const FIXED: Setting = { ...DEFAULT, recency: 0, entity: 0, date: 0.4 };
/** The axes the "both vectors" and "mapped" rows re-fit beside their own. */
const BOTH_AXES = { lexical: [0.6, 1, 1.5, 2.5, 4], neighbour: [0.3, 0.5], session: [0, 0.4] };

/** Each row: the grid its folds choose from (the library's current weights are always in it). */
const refit = opts.model === "static" ? { lexical: [0.6, 1, 1.5, 2.5, 4], neighbour: [0.3, 0.5, 0.8] } : { lexical: [0.4, 0.6, 1], neighbour: [0.2, 0.3, 0.5] };
const VARIANTS: Record<string, { label: string; grid: () => Setting[] }> = {
  defaults: { label: "DEFAULT_RANKER as shipped (no choice)", grid: () => [DEFAULT] },
  base: { label: "ranker re-fitted (lexical, neighbour)", grid: () => product(DEFAULT, refit) },
  recency: { label: "+ recency and entity boost re-fitted", grid: () => product(DEFAULT, { ...refit, recency: [0, 0.02, 0.1], entity: [0, 0.1, 0.2] }) },
  dates: { label: "+ time-aware (date boost)", grid: () => product(DEFAULT, { ...refit, date: [0, 0.2, 0.4, 0.8, 1.6] }) },
  prf: { label: "+ PRF (RM3 on BM25)", grid: () => product(DEFAULT, { ...refit, prf: [0, 0.2, 0.4, 0.8] }) },
  session: { label: "+ session context", grid: () => product(DEFAULT, { ...refit, session: [0, 0.1, 0.2, 0.4, 0.8] }) },
  final: {
    label: "all kept parts re-fitted together (recency, entity, dates, session)",
    grid: () =>
      product(DEFAULT, {
        // The cosine's scale too, for the static model: its table now lives in USE-Lite's space.
        spread: [...new Set([0, base.spread])],
        lexical: opts.model === "static" ? refit.lexical : refit.lexical.slice(1),
        neighbour: opts.model === "static" ? refit.neighbour : refit.neighbour.slice(1),
        recency: [0, 0.02],
        entity: [0, 0.1],
        date: [0, 0.4, 0.8],
        session: [0, 0.4, 0.8],
      }),
  },
  combined: {
    label: "time-aware + session context",
    grid: () => product(DEFAULT, { ...refit, date: [0, 0.4, 0.8, 1.6], session: [0, 0.2, 0.4, 0.8] }),
  },
  mmr: { label: "+ MMR in the top 25", grid: () => product(DEFAULT, { ...refit, mmr: [1, 0.9, 0.8, 0.7] }) },
  // The axes "final" never chose (recency, entity) fixed at 0; the cosine's scale (spread) and the
  // lexical weight re-fitted over a wider range, for a model whose cosines differ from USE-Lite's.
  wide: {
    label: "lexical, spread, neighbour, dates, session re-fitted (recency, entity 0)",
    grid: () =>
      product({ ...DEFAULT, recency: 0, entity: 0 }, {
        lexical: opts.model === "static" ? [2.5, 4, 6] : [0.6, 1, 1.5],
        spread: [0, 2, 4, 8],
        neighbour: refit.neighbour.slice(1),
        date: [0.4],
        session: [0, 0.4],
      }),
  },
  late: {
    label: "final's choices + late interaction over static pieces",
    grid: () =>
      product(FIXED, {
        lexical: refit.lexical.slice(1),
        neighbour: refit.neighbour.slice(1),
        session: [0, 0.4],
        late: [0, 0.25, 0.5, 1],
      }),
  },
  // Both vectors: the model's cosine ranks the candidates, then the second vectors' cosine is mixed
  // in (weight 0 allowed: the model alone is in the grid).
  second: {
    label: "both vectors: cosine mixed with the second cache's (--second)",
    grid: () =>
      product(FIXED, { ...BOTH_AXES, second: [0, 0.25, 0.5, 0.75, 1] }),
  },
  // The same with the cosine's scale chosen too: the rows above kept the static model's spread (4,
  // standardized cosines) even when the mixed cosine is all USE-Lite's, whose own weights use 0.
  secondSpread: {
    label: "both vectors, the cosine's spread re-fitted with the mix",
    grid: () =>
      product(FIXED, { spread: [0, 4], ...BOTH_AXES, second: [0, 0.5, 0.75, 1] }),
  },
  // One vector per memory in USE-Lite's space (`--vectors`: the turns' USE-Lite vectors, or their
  // mapped static drafts; the questions' static vectors mapped by static_model/both_map.py).
  mapped: {
    label: "one vector in USE-Lite's space, the question's static vector mapped (--vectors)",
    grid: () =>
      product(FIXED, { spread: [0, 4], ...BOTH_AXES }),
  },
  both: {
    label: "both vectors (--second) and dense feedback in the memories' second space, re-fitted together",
    grid: () =>
      product({ ...DEFAULT, recency: 0, entity: 0, date: 0.4, session: 0.4, prfDocs: 5 }, {
        lexical: [1, 1.5, 2.5, 4],
        neighbour: [0.3, 0.5],
        second: [0, 0.5, 0.75, 1],
        dprf2: [0, 0.25, 0.5],
      }),
  },
  dprf2: {
    label: "both vectors, no USE-Lite query: dense feedback in the memories' USE-Lite space (--second)",
    grid: () =>
      product(FIXED, {
        lexical: refit.lexical,
        neighbour: refit.neighbour.slice(1),
        session: [0, 0.4],
        dprf2: [0, 0.25, 0.5, 1],
        prfDocs: [3, 5],
      }),
  },
  qexp: {
    label: "+ query expansion with the static table's neighbouring pieces (BM25 of the neighbours)",
    grid: () =>
      product(FIXED, {
        lexical: refit.lexical,
        neighbour: refit.neighbour.slice(1),
        session: [0, 0.4],
        qexp: [0, 0.1, 0.2, 0.4],
        qexpK: [3, 10],
      }),
  },
  dprf: {
    label: "wide + dense feedback (Rocchio on the first pass' top memories)",
    grid: () =>
      product(FIXED, {
        lexical: opts.model === "static" ? [2.5, 4, 6] : [0.6, 1, 1.5],
        spread: [base.spread],
        neighbour: refit.neighbour.slice(1),
        session: [0, 0.4],
        dprf: [0, 0.3, 0.6, 1],
        prfDocs: [5],
      }),
  },
};

const rows = opts.variants ? opts.variants.split(",") : Object.keys(VARIANTS);
const fmt = (x: number) => (100 * x).toFixed(1);
const lines: string[] = [];
const report: Record<string, unknown> = {};
for (const name of rows) {
  const variant = VARIANTS[name];
  if (!variant) throw new Error(`unknown variant ${name}`);
  const started = performance.now();
  const settings = variant.grid();
  const groups = questions.map((q) => q.conv);
  const cv = crossValidate(groups, settings, (s) => scoreAll(s).map((r) => r[1]));
  const folds = cv.folds.map((fold) => {
    const scores = scoreAll(fold.chosen);
    const idx = questions.map((q, i) => (q.conv === fold.heldOut ? i : -1)).filter((i) => i >= 0);
    const mean = (k: 0 | 1 | 2, keep: (i: number) => boolean = () => true) => {
      const kept = idx.filter(keep);
      return kept.reduce((s, i) => s + scores[i]![k], 0) / Math.max(1, kept.length);
    };
    return { heldOut: fold.heldOut, chosen: fold.chosen, r5: mean(0), r10: mean(1), r25: mean(2), cat: CATEGORY_IDS.map((c) => mean(1, (i) => questions[i]!.category === c)) };
  });
  const avg = (pick: (f: (typeof folds)[number]) => number) => folds.reduce((s, f) => s + pick(f), 0) / folds.length;
  const r10s = folds.map((f) => f.r10);
  const inSample = scoreAll(cv.inSample.setting);
  const summary = {
    label: variant.label,
    settings: settings.length,
    r5: avg((f) => f.r5),
    r10: avg((f) => f.r10),
    r25: avg((f) => f.r25),
    range: [Math.min(...r10s), Math.max(...r10s)],
    byCategory: Object.fromEntries(CATEGORY_IDS.map((c, j) => [CATEGORIES[c], avg((f) => f.cat[j]!)])),
    inSampleR10: inSample.reduce((s, r) => s + r[1], 0) / inSample.length,
    inSampleSetting: cv.inSample.setting,
    folds,
  };
  report[name] = summary;
  const changed = (s: Setting) =>
    (Object.keys(s) as Array<keyof Setting>)
      .filter((k) => s[k] !== DEFAULT[k])
      .map((k) => `${k} ${s[k]}`)
      .join(", ") || "defaults";
  lines.push(
    `| ${variant.label} | ${fmt(summary.r5)} | ${fmt(summary.r10)} | ${fmt(summary.r25)} | ${fmt(summary.range[0]!)}-${fmt(summary.range[1]!)} | ` +
      `${CATEGORY_IDS.map((c) => fmt(summary.byCategory[CATEGORIES[c]]!)).join(" | ")} | ${fmt(summary.inSampleR10)} | ${changed(cv.inSample.setting)} |`,
  );
  process.stderr.write(`${name}: ${settings.length} settings, held-out R@10 ${fmt(summary.r10)} (${((performance.now() - started) / 1000).toFixed(0)} s); folds: ${folds.map((f) => changed(f.chosen)).join(" / ")}\n`);
}
const table = [
  `${opts.model}: ${questions.length} questions, leave-one-conversation-out over ${conversations.length} conversations (held-out means).`,
  "",
  `| row | R@5 | R@10 | R@25 | held-out R@10 range | ${CATEGORY_IDS.map((c) => CATEGORIES[c]).join(" | ")} | in-sample R@10 | in-sample choice |`,
  `|---|---:|---:|---:|---|${CATEGORY_IDS.map(() => "---:").join("|")}|---:|---|`,
  ...lines,
].join("\n");
console.log(table);
await writeFile(join(opts.out, `lab-${outName}.json`), JSON.stringify(report, null, 2));
await writeFile(join(opts.out, `lab-${outName}.md`), `${table}\n`);

// ---- peers in the same run: R@k and answer recall (AR@10) per category -------------------------
// engram (held-out): each conversation ranked with the weights its fold chose on the other four.
const finalFolds = ((report.final ?? report[rows.at(-1)!]) as { folds?: Array<{ heldOut: string; chosen: Setting }> } | undefined)?.folds;
const peerRows: Array<[string, (q: Question, qi: number) => string[]]> = [
  ["bm25 (reference)", (q) => q.bm25],
  ["dense (cosine alone)", (q) => q.dense],
  ["engram, DEFAULT_RANKER before this work", (q, qi) => rankQuestion(q, qi, DEFAULT).slice(0, 25).map((r) => r.record.id)],
];
if (finalFolds) {
  const chosenFor = new Map(finalFolds.map((f) => [f.heldOut, f.chosen]));
  peerRows.push(["engram, CV-chosen (held-out)", (q, qi) => rankQuestion(q, qi, chosenFor.get(q.conv)!).slice(0, 25).map((r) => r.record.id)]);
}
const peerLines: string[] = [];
for (const [name, rank] of peerRows) {
  const per = questions.map((q, qi) => {
    const ids = rank(q, qi);
    const ar = answerRecallAt(q.answer, ids, (id) => textsOf.get(q.conv)!.get(id), [10])[10]!;
    return { q, r5: recallAt(q.evidence, ids, 5), r10: recallAt(q.evidence, ids, 10), r25: recallAt(q.evidence, ids, 25), ar };
  });
  // Conversations weigh equally, as in the CV rows.
  const convMean = (pick: (p: (typeof per)[number]) => number, keep: (p: (typeof per)[number]) => boolean = () => true) => {
    const convs = [...new Set(per.map((p) => p.q.conv))];
    const means = convs.map((c) => {
      const kept = per.filter((p) => p.q.conv === c && keep(p) && Number.isFinite(pick(p)));
      return kept.reduce((sum, p) => sum + pick(p), 0) / Math.max(1, kept.length);
    });
    return means.reduce((a, b) => a + b, 0) / means.length;
  };
  peerLines.push(
    `| ${name} | ${fmt(convMean((p) => p.r5))} | ${fmt(convMean((p) => p.r10))} | ${fmt(convMean((p) => p.r25))} | ` +
      `${CATEGORY_IDS.map((c) => fmt(convMean((p) => p.r10, (p) => p.q.category === c))).join(" | ")} | ` +
      `${fmt(convMean((p) => p.ar))} | ${CATEGORY_IDS.map((c) => fmt(convMean((p) => p.ar, (p) => p.q.category === c))).join(" | ")} |`,
  );
}
const peers = [
  `| system | R@5 | R@10 | R@25 | ${CATEGORY_IDS.map((c) => `${CATEGORIES[c]} R@10`).join(" | ")} | AR@10 | ${CATEGORY_IDS.map((c) => `${CATEGORIES[c]} AR@10`).join(" | ")} |`,
  `|---|---:|---:|---:|${CATEGORY_IDS.map(() => "---:").join("|")}|---:|${CATEGORY_IDS.map(() => "---:").join("|")}|`,
  ...peerLines,
].join("\n");
console.log(`\n${peers}`);
await writeFile(join(opts.out, `lab-${outName}-peers.md`), `${peers}\n`);

