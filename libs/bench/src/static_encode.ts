/**
 * The static model's encode, this build against a baseline build in the same process: CPU time per
 * text of `embedDocuments` over LoCoMo dev turns (in calls of 200, as the drain makes them), warm
 * (every round after the first) and cold (the first round: the table's load, and the words and rows
 * seen for the first time), and whether the two builds give the same vectors to the last bit. Both read the same table
 * file; the 1-minute load average is printed beside the figures (the machine may be shared).
 *
 *   node --import tsx src/static_encode.ts [--baseline 37728a5] [--turns 10000] [--rounds 5]
 */
import os from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import * as current from "../../engram/src/index.js";
import { DEFAULT_STATIC_MODEL_PATH } from "../../engram/src/embeddings/static_model.js";
import { importBaseline } from "./baseline_source.js";
import { loadLocomo } from "./locomo/data.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const opts = new Command()
  .option("--data <path>", "LoCoMo json", resolve(REPO_ROOT, "../shared/bench/locomo/locomo-dev.json"))
  .option("--baseline <ref>", "git commit whose libs/engram/src is the baseline", "37728a5")
  .option("--turns <n>", "texts per round (LoCoMo dev turns, repeated with a round number past 2,760)", "10000")
  .option("--rounds <n>", "rounds per build, alternating; the first is the cold one", "5")
  .parse()
  .opts<{ data: string; baseline: string; turns: string; rounds: string }>();

type Engine = typeof current;
const conversations = await loadLocomo(opts.data);
const pool = conversations.flatMap((c) => c.turns.map((t) => `${t.speaker}: ${t.text}`));
const texts = Array.from({ length: Number(opts.turns) }, (_, i) => {
  const round = Math.floor(i / pool.length);
  return round === 0 ? pool[i % pool.length]! : `${pool[i % pool.length]} (round ${round + 1})`;
});

const builds: Array<[string, Engine]> = [
  ["baseline", await importBaseline<Engine>(opts.baseline)],
  ["current", current],
];
const models = builds.map(([name, engine]) => [name, new engine.StaticEmbeddings({ modelPath: DEFAULT_STATIC_MODEL_PATH })] as const);

/** CPU ms per text of one pass, the wall-clock ms per text of each call, and the vectors. */
async function pass(model: (typeof models)[number][1]): Promise<{ ms: number; walls: number[]; vectors: number[][] }> {
  const vectors: number[][] = [];
  const walls: number[] = [];
  const start = process.cpuUsage();
  for (let i = 0; i < texts.length; i += 200) {
    const slice = texts.slice(i, i + 200);
    const t0 = performance.now();
    vectors.push(...(await model.embedDocuments(slice)));
    walls.push((performance.now() - t0) / slice.length);
  }
  const used = process.cpuUsage(start);
  return { ms: (used.user + used.system) / 1000 / texts.length, walls, vectors };
}

const runs = new Map<string, number[]>();
/** Wall-clock ms per text of every call of the warm rounds. */
const warmWalls = new Map<string, number[]>();
const firstVectors = new Map<string, number[][]>();
const load1 = os.loadavg()[0]!;
for (let round = 0; round < Number(opts.rounds); round += 1) {
  for (const [name, model] of models) {
    const { ms, walls, vectors } = await pass(model);
    runs.set(name, [...(runs.get(name) ?? []), ms]);
    if (round === 0) firstVectors.set(name, vectors);
    else warmWalls.set(name, [...(warmWalls.get(name) ?? []), ...walls]);
  }
}
const [before, after] = [firstVectors.get("baseline")!, firstVectors.get("current")!];
const differ = before.filter((vector, i) => vector.some((x, d) => x !== after[i]![d])).length;
const quantile = (xs: number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
};
const median = (xs: number[]): number => quantile(xs, 0.5);
console.log(`static model encode, ${texts.length} LoCoMo dev turns per round, calls of 200, ${opts.rounds} rounds per build alternating; load ${load1.toFixed(1)} -> ${os.loadavg()[0]!.toFixed(1)}`);
console.log("| build | cold round (ms CPU/text) | warm rounds, median (ms CPU/text) | warm calls' wall clock p50 / p95 (ms/text) |");
console.log("|---|---:|---:|---:|");
for (const [name] of builds) {
  const [cold, ...warm] = runs.get(name)!;
  const walls = warmWalls.get(name) ?? [];
  const wall = walls.length > 0 ? `${quantile(walls, 0.5).toFixed(3)} / ${quantile(walls, 0.95).toFixed(3)}` : "–";
  console.log(`| ${name === "baseline" ? `baseline (${opts.baseline})` : "current"} | ${cold!.toFixed(3)} | ${warm.length > 0 ? median(warm).toFixed(3) : "–"} | ${wall} |`);
}
console.log(`vectors that differ between the builds (any component, to the last bit): ${differ} of ${texts.length}`);
if (differ > 0) process.exitCode = 1;
