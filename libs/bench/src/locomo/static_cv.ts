/**
 * Cross-validates Engram's ranker on LoCoMo dev for several static-table variants in one run
 * (issue 13), beside USE-Lite as the bar, with the protocol of `tune.ts`: each fold picks the grid
 * setting with the best R@10 on four conversations and is scored on the fifth; the figure is the
 * mean of the five held-out scores.
 *
 * Input: `tune.ts`'s samples (every question's turns with their BM25 part and the USE-Lite cosine)
 * and, per variant, the static cosines of the same turns in the same order (`rescore.py --cos`).
 * It imports only the library's *source* (the ranker and the entity boost), so a rebuild of the
 * package by someone else during the run cannot break it.
 *
 *   node --import tsx src/locomo/static_cv.ts --samples tune-samples.json --variants orig=a.json,center=b.json [--out dir]
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { DEFAULT_RANKER, rankCandidates, type Candidate, type RankerOptions } from "../../../engram/src/scoring/ranker.js";
import { boostByEntities, withEntities } from "../../../engram/src/scoring/entities.js";
import type { MemoryRecord } from "../../../engram/src/core/types.js";
import { CATEGORIES, CATEGORY_IDS, type Category } from "./data.js";
import { recallAt } from "./metric.js";
import type { Sample, Turn } from "./tune_samples.js";
import { crossValidate } from "./cv.js";

interface Setting {
  spread: number;
  lexical: number;
  neighbour: number;
}

const opts = new Command()
  .requiredOption("--samples <file>", "tune.ts' tune-samples.json")
  .requiredOption("--variants <list>", "name=cosines.json,... (rescore.py --cos output); 'use' is always added")
  .option("--spreads <list>", "spread values of the grid (0: raw cosine)", "0,2,4")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ samples: string; variants: string; spreads: string; out: string }>();

const samples = JSON.parse(await readFile(opts.samples, "utf8")) as Sample[];
const variants: Array<{ name: string; cos: number[][] }> = [{ name: "use", cos: samples.map((s) => s.turns.map((t) => t.cosUse)) }];
for (const item of opts.variants.split(",")) {
  const [name, file] = item.split("=") as [string, string];
  const cos = JSON.parse(await readFile(file, "utf8")) as number[][];
  if (cos.length !== samples.length || cos.some((c, i) => c.length !== samples[i]!.turns.length)) throw new Error(`${file}: not the samples' shape`);
  variants.push({ name, cos });
}

const records = new Map<string, MemoryRecord>();
const recordOf = (conv: string, t: Turn): MemoryRecord => {
  const key = `${conv}/${t.diaId}`;
  let record = records.get(key);
  if (!record) {
    // The thread is the LoCoMo session, as the ingest stores it (`session_<n>`), for ranker parts that read it.
    const threadId = `session_${t.diaId.slice(1).split(":")[0]}`;
    record = {
      id: t.diaId,
      scope: { userId: conv, threadId },
      source: {},
      content: t.content,
      createdAt: t.createdAt,
      importance: t.importance,
      metadata: withEntities({ diaId: t.diaId }, t.content),
    } as unknown as MemoryRecord;
    records.set(key, record);
  }
  return record;
};
const prepared = samples.map((sample) => sample.turns.map((t) => recordOf(sample.conv, t)));

function neighboursOf(diaId: string): string[] {
  const [session, turn] = diaId.slice(1).split(":").map(Number);
  return [`D${session}:${turn! - 1}`, `D${session}:${turn! + 1}`];
}

/** The ranker's two candidate pools per question (top `candidates` by cosine and by BM25), as in tune.ts. */
function pools(cos: number[][]): Candidate[][] {
  const n = DEFAULT_RANKER.candidates;
  return samples.map((sample, qi) => {
    const sims = cos[qi]!;
    const byDense = sims.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s).slice(0, n);
    const byLexical = sample.turns.map((t, i) => ({ s: t.lexical, i })).filter((x) => x.s > 0).sort((a, b) => b.s - a.s).slice(0, n);
    const lexicalKept = new Set(byLexical.map((x) => x.i));
    const chosen = [...new Set([...byDense.map((x) => x.i), ...byLexical.map((x) => x.i)])];
    return chosen.map((i) => ({ record: prepared[qi]![i]!, similarity: sims[i]!, lexical: lexicalKept.has(i) ? sample.turns[i]!.lexical : 0 }));
  });
}

function scoreAll(pool: Candidate[][], setting: Setting): Array<[number, number, number]> {
  const ranker: Required<RankerOptions> = { ...DEFAULT_RANKER, relevance: 1, ...setting };
  return samples.map((sample, qi) => {
    const ranked = boostByEntities(sample.query, rankCandidates(pool[qi]!.map((c) => ({ ...c })), sample.now, ranker, neighboursOf), 0.1);
    const ids = ranked.slice(0, 25).map((r) => r.record.id);
    return [recallAt(sample.evidence, ids, 5), recallAt(sample.evidence, ids, 10), recallAt(sample.evidence, ids, 25)];
  });
}

const grid: Setting[] = [];
for (const spread of opts.spreads.split(",").map(Number))
  for (const lexical of [0.4, 0.6, 1, 1.5, 2.5, 4, 6])
    for (const neighbour of [0.15, 0.3, 0.5, 0.8]) grid.push({ spread, lexical, neighbour });

const groups = samples.map((s) => s.conv);
const convs = [...new Set(groups)];
const fmt = (x: number) => x.toFixed(1);
const lines: string[] = [];
const report: Record<string, unknown> = {};
for (const variant of variants) {
  const started = performance.now();
  const pool = pools(variant.cos);
  const memo = new Map<Setting, Array<[number, number, number]>>();
  const scores = (s: Setting) => {
    let r = memo.get(s);
    if (!r) memo.set(s, (r = scoreAll(pool, s)));
    return r;
  };
  const cv = crossValidate(groups, grid, (s) => scores(s).map((r) => r[1]));
  const folds = cv.folds.map((fold) => {
    const r = scores(fold.chosen);
    const idx = groups.map((g, i) => (g === fold.heldOut ? i : -1)).filter((i) => i >= 0);
    const mean = (k: 0 | 1 | 2, keep: (i: number) => boolean = () => true) => {
      const chosen = idx.filter(keep);
      return (100 * chosen.reduce((sum, i) => sum + r[i]![k], 0)) / Math.max(1, chosen.length);
    };
    return { heldOut: fold.heldOut, chosen: fold.chosen, r5: mean(0), r10: mean(1), r25: mean(2), byCategory: CATEGORY_IDS.map((c) => mean(1, (i) => samples[i]!.category === c)) };
  });
  const avg = (pick: (f: (typeof folds)[number]) => number) => folds.reduce((s, f) => s + pick(f), 0) / folds.length;
  const r10s = folds.map((f) => f.r10);
  const best = scores(cv.inSample.setting);
  const inSample = (100 * best.reduce((s, r) => s + r[1], 0)) / best.length;
  report[variant.name] = { heldOut: { r5: avg((f) => f.r5), r10: avg((f) => f.r10), r25: avg((f) => f.r25) }, inSample: { setting: cv.inSample.setting, r10: inSample }, folds };
  lines.push(
    `| ${variant.name} | ${fmt(avg((f) => f.r5))} | **${fmt(avg((f) => f.r10))}** | ${fmt(avg((f) => f.r25))} | ${fmt(Math.min(...r10s))}-${fmt(Math.max(...r10s))} | ` +
      `${CATEGORY_IDS.map((_, c) => fmt(avg((f) => f.byCategory[c]!))).join(" | ")} | ${fmt(inSample)} | ` +
      `${folds.map((f) => `${f.chosen.spread}/${f.chosen.lexical}/${f.chosen.neighbour}`).join("; ")} |`,
  );
  process.stderr.write(`${variant.name}: held-out R@10 ${fmt(avg((f) => f.r10))} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}
const table = [
  `${samples.length} questions, ${convs.length} conversations; ${grid.length} settings (spread ${opts.spreads}, lexical 0.4-6, neighbour 0.15-0.8); held-out = mean of the five folds.`,
  "",
  `| model | R@5 | R@10 | R@25 | fold R@10 range | ${CATEGORY_IDS.map((c) => `${CATEGORIES[c]}`).join(" | ")} | in-sample R@10 | chosen per fold (spread/lexical/neighbour) |`,
  `|---|---:|---:|---:|---|${CATEGORY_IDS.map(() => "---:").join("|")}|---:|---|`,
  ...lines,
].join("\n");
console.log(table);
await mkdir(opts.out, { recursive: true });
await writeFile(join(opts.out, "static_cv.json"), JSON.stringify(report, null, 2));
await writeFile(join(opts.out, "static_cv.md"), `${table}\n`);
