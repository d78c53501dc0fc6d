/**
 * What each embedding model costs on its own, each in a fresh process (so load time and memory are
 * not shared): load time (construct + first embedding, file reads and TF.js start included), the
 * resident memory it adds, and one-text encode latency (p50/p95 over LoCoMo turns, warm).
 *
 *   node --import tsx src/embeddings_speed.ts [--models static,use-lite-onnx,use-lite-tfjs] [--texts 1000]
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { machineInfo } from "./machine.js";
import { summarize, type LatencySummary } from "./stats.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const opts = new Command()
  .option("--data <path>", "LoCoMo json", resolve(REPO_ROOT, "../shared/bench/locomo/locomo-dev.json"))
  .option("--models <list>", "models (static, use-lite: the default runtime, use-lite-onnx, use-lite-tfjs)", "static,use-lite-onnx,use-lite-tfjs")
  .option("--texts <n>", "texts timed one by one", "1000")
  .option("--child <model>", "(internal) measure one model in this process")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ data: string; models: string; texts: string; child?: string; out: string }>();

interface Measure {
  model: string;
  loadMs: number;
  rssMiB: number;
  encode: LatencySummary;
  texts: number;
}

if (opts.child) {
  const { LocalEmbeddings, StaticEmbeddings } = await import("engram");
  const { loadLocomo } = await import("./locomo/data.js");
  const { turnContent } = await import("./locomo/retrievers.js");
  const texts = (await loadLocomo(opts.data)).flatMap((c) => c.turns.map(turnContent)).slice(0, Number(opts.texts));
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const model =
    opts.child === "static"
      ? new StaticEmbeddings()
      : new LocalEmbeddings(opts.child === "use-lite-onnx" ? { runtime: "onnx" } : opts.child === "use-lite-tfjs" ? { runtime: "tfjs" } : {});
  await model.embedQuery("The first embedding loads the model.");
  const loadMs = performance.now() - t0;
  const latencies: number[] = [];
  for (const text of texts) {
    const t = performance.now();
    await model.embedQuery(text);
    latencies.push(performance.now() - t);
  }
  // RSS of the process (and of no worker thread's heap beyond it: worker threads share the process).
  const rssMiB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  await (model as { close?: () => Promise<void> }).close?.();
  const measure: Measure = { model: opts.child, loadMs, rssMiB, encode: summarize(latencies), texts: texts.length };
  process.stdout.write(JSON.stringify(measure));
} else {
  const measures: Measure[] = [];
  for (const model of opts.models.split(",").map((m) => m.trim())) {
    const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "--child", model, "--texts", opts.texts, "--data", opts.data], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    measures.push(JSON.parse(out) as Measure);
  }
  const markdown = [
    "Each model in a fresh process; load = construct + first embedding; RSS = resident memory added by loading and encoding; encode = one `embedQuery` per LoCoMo turn, warm.",
    "",
    "| model | load (ms) | RSS added (MiB) | encode p50 (ms) | encode p95 (ms) | texts |",
    "|---|---:|---:|---:|---:|---:|",
    ...measures.map((m) => `| ${m.model} | ${m.loadMs.toFixed(0)} | ${m.rssMiB.toFixed(0)} | ${m.encode.p50.toFixed(3)} | ${m.encode.p95.toFixed(3)} | ${m.texts} |`),
  ].join("\n");
  console.log(markdown);
  await mkdir(opts.out, { recursive: true });
  await writeFile(join(opts.out, "embeddings_speed.json"), JSON.stringify({ machine: machineInfo(), measures, markdown }, null, 2));
}
