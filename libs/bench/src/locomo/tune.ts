/**
 * Tunes the recall ranker's weights on the LoCoMo dev half: ingests every conversation into one
 * Engram `Memory` once, collects each question's candidates with their score parts (the same
 * candidate pools the ranker sees: the top vector hits and the top BM25 hits), then sweeps the
 * fusion weights offline and prints recall@10 for each setting, best first.
 *
 *   node --import tsx src/locomo/tune.ts [--data path] [--out bench-results]
 */
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { DEFAULT_RANKER, Memory, startChromaServer } from "engram";
import { CachedEmbeddings } from "./embeddings.js";
import { loadLocomo, type Conversation } from "./data.js";
import { recallAt } from "./metric.js";
import { bm25Document, turnContent } from "./retrievers.js";
import { Bm25Index } from "./bm25.js";
import { readFile } from "node:fs/promises";

interface Part {
  diaId: string;
  relevance: number;
  lexical: number;
  createdAt: number;
  denseRank: number;
  lexicalRank: number;
  /** The reference BM25 (date + speaker + text, plain tokens), normalized by its best score. */
  refLexical: number;
  refLexicalRank: number;
}

interface Sample {
  evidence: string[];
  now: number;
  parts: Part[];
}

const program = new Command()
  .option("--data <path>", "LoCoMo json", resolve(process.cwd(), "../../../shared/bench/locomo/locomo-dev.json"))
  .option("--out <dir>", "output folder", "bench-results")
  .option("--pool <n>", "candidates per retriever", String(DEFAULT_RANKER.candidates))
  .option("--samples <file>", "reuse the candidates saved by an earlier run (skips ingest)")
  .parse();
const opts = program.opts<{ data: string; out: string; pool: string; samples?: string }>();
const pool = Number(opts.pool);

const samples: Sample[] = opts.samples ? (JSON.parse(await readFile(opts.samples, "utf8")) as Sample[]) : await collect();
await mkdir(opts.out, { recursive: true });
if (!opts.samples) await writeFile(join(opts.out, "tune-samples.json"), JSON.stringify(samples));

async function collect(): Promise<Sample[]> {
const conversations = await loadLocomo(opts.data);
const dir = await mkdtemp(join(tmpdir(), "engram-tune-"));
const server = await startChromaServer({ path: join(dir, "chroma") });
const samples: Sample[] = [];
try {
  const embeddings = new CachedEmbeddings();
  let now = 0;
  const memory = new Memory({ dataDir: join(dir, "data"), chroma: { url: server.url }, embeddings, clock: () => now });
  for (const conv of conversations) {
    await ingest(memory, conv, (t) => (now = t));
    const reference = new Bm25Index(conv.turns.map((t) => bm25Document(t)));
    for (const question of conv.questions) {
      const refScores = reference.scores(question.question);
      const refMax = Math.max(...refScores, 0);
      const refOrder = refScores.map((score, i) => ({ score, i })).sort((a, b) => b.score - a.score);
      const refRank = new Map(refOrder.map((x, rank) => [conv.turns[x.i]!.diaId, x.score > 0 ? rank : Number.MAX_SAFE_INTEGER]));
      const refByDia = new Map(conv.turns.map((t, i) => [t.diaId, refMax > 0 ? refScores[i]! / refMax : 0]));
      // Ask for everything the ranker would consider; relevance and lexical parts do not depend
      // on the weights, so any fusion can be replayed offline from them.
      const hits = await memory.search(question.question, { userId: conv.sampleId, limit: 1_000 });
      const byDense = [...hits].sort((a, b) => b.scoreParts.relevance - a.scoreParts.relevance);
      const byLexical = [...hits].sort((a, b) => b.scoreParts.lexical - a.scoreParts.lexical);
      const denseRank = new Map(byDense.map((h, i) => [h.id, i]));
      const lexicalRank = new Map(byLexical.map((h, i) => [h.id, h.scoreParts.lexical > 0 ? i : Number.MAX_SAFE_INTEGER]));
      samples.push({
        evidence: question.evidence,
        now,
        parts: hits.map((h) => ({
          diaId: String(h.metadata.diaId),
          relevance: h.scoreParts.relevance,
          lexical: h.scoreParts.lexical,
          createdAt: h.createdAt,
          denseRank: denseRank.get(h.id)!,
          lexicalRank: lexicalRank.get(h.id)!,
          refLexical: refByDia.get(String(h.metadata.diaId)) ?? 0,
          refLexicalRank: refRank.get(String(h.metadata.diaId)) ?? Number.MAX_SAFE_INTEGER,
        })),
      });
    }
    process.stderr.write(`${conv.sampleId}: ${conv.questions.length} questions\n`);
  }
  await memory.close();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
return samples;
}

const DAY = 86_400_000;
interface Setting {
  lexical: number;
  recency: number;
  halfLifeDays: number;
  /** "engram": Engram's stemmed BM25; "reference": the plain BM25 with session dates. */
  source: "engram" | "reference";
  /** Share of the best neighbouring turn's score added to a turn (same session, adjacent). */
  neighbour: number;
}
function neighbours(diaId: string): string[] {
  const [session, turn] = diaId.slice(1).split(":").map(Number);
  return [`D${session}:${turn! - 1}`, `D${session}:${turn! + 1}`];
}
function evaluate(setting: Setting, k = 10): number {
  let total = 0;
  for (const sample of samples) {
    const base = sample.parts
      .filter((p) =>
        setting.source === "engram" ? p.denseRank < pool || p.lexicalRank < pool : p.denseRank < pool || p.refLexicalRank < pool,
      )
      .map((p) => {
        const recency = Math.pow(0.5, Math.max(0, sample.now - p.createdAt) / (setting.halfLifeDays * DAY));
        const lexical = setting.source === "engram" ? p.lexical : p.refLexical;
        return { id: p.diaId, score: p.relevance + setting.lexical * lexical + setting.recency * recency };
      });
    const byId = new Map(base.map((b) => [b.id, b.score]));
    const scored = base
      .map((b) => {
        if (setting.neighbour === 0) return b;
        const best = Math.max(0, ...neighbours(b.id).map((n) => byId.get(n) ?? 0));
        return { id: b.id, score: b.score + setting.neighbour * best };
      })
      .sort((a, b) => b.score - a.score);
    total += recallAt(sample.evidence, scored.map((s) => s.id), k);
  }
  return (100 * total) / samples.length;
}

const results: Array<Setting & { r5: number; r10: number; r25: number }> = [];
for (const source of ["engram", "reference"] as const) {
  for (const neighbour of [0, 0.1, 0.2, 0.3, 0.5]) {
    for (const lexical of [0.2, 0.4, 0.6, 0.8, 1, 1.5, 2]) {
      for (const recency of [0, 0.02, 0.05]) {
        for (const halfLifeDays of recency === 0 ? [30] : [30, 180]) {
          const setting = { lexical, recency, halfLifeDays, source, neighbour };
          results.push({ ...setting, r5: evaluate(setting, 5), r10: evaluate(setting, 10), r25: evaluate(setting, 25) });
        }
      }
    }
  }
}
results.sort((a, b) => b.r10 - a.r10);
const lines = [
  "| lexical source | lexical | recency | half-life (days) | neighbour | R@5 | R@10 | R@25 |",
  "|---|---:|---:|---:|---:|---:|---:|---:|",
];
for (const r of results.slice(0, 30)) {
  lines.push(
    `| ${r.source} | ${r.lexical} | ${r.recency} | ${r.halfLifeDays} | ${r.neighbour} | ${r.r5.toFixed(1)} | ${r.r10.toFixed(1)} | ${r.r25.toFixed(1)} |`,
  );
}
console.log(`${samples.length} questions, pool ${pool} per retriever (weights relative to relevance = 1)\n`);
console.log(lines.join("\n"));
await writeFile(join(opts.out, "tune.json"), JSON.stringify({ pool, results }, null, 2));

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
