/**
 * Ingest throughput with the local embedding model, end to end: what a user pays to put turns into
 * Engram on the embedded default. Measures, against one local Chroma server started here:
 * - the model alone (`LocalEmbeddings.embedDocuments`, batches of 32), texts/s;
 * - `Memory.add` of a session's messages per call (one record per message), records/s;
 * - `Memory.add` of one turn at a time, p50/p95 per call, the embedding included.
 * Texts are LoCoMo turns when the data is there, so their lengths are real.
 *
 *   node --import tsx src/ingest.ts [--data path] [--turns 600] [--out bench-results]
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { LocalEmbeddings, Memory, startChromaServer } from "engram";
import { loadLocomo } from "./locomo/data.js";
import { turnContent } from "./locomo/retrievers.js";
import { machineInfo } from "./machine.js";
import { summarize } from "./stats.js";

const opts = new Command()
  .option("--data <path>", "LoCoMo json", resolve(process.cwd(), "../../../shared/bench/locomo/locomo-dev.json"))
  .option("--turns <n>", "turns per measurement", "600")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ data: string; turns: string; out: string }>();
const turns = Number(opts.turns);

const [conv] = await loadLocomo(opts.data);
if (!conv) throw new Error("no conversation in the data");
const texts = conv.turns.slice(0, turns).map(turnContent);
const dir = await mkdtemp(join(tmpdir(), "engram-ingest-"));
const server = await startChromaServer({ path: join(dir, "chroma") });
try {
  // The model alone. A fresh instance per measurement: nothing is cached between them.
  const model = new LocalEmbeddings();
  await model.embedDocuments(["warm up the model"]);
  let start = performance.now();
  await model.embedDocuments(texts);
  const modelRate = texts.length / ((performance.now() - start) / 1000);

  // Memory.add, one call per session (the messages of a session together).
  const batched = new Memory({ dataDir: join(dir, "batched"), chroma: { url: server.url }, embeddings: new LocalEmbeddings() });
  await batched.add("warm up", { userId: "warm" });
  const sessions = new Map<number, string[]>();
  conv.turns.slice(0, turns).forEach((turn, i) => sessions.set(turn.session, [...(sessions.get(turn.session) ?? []), texts[i]!]));
  start = performance.now();
  for (const [session, contents] of sessions) {
    await batched.add(contents.map((content) => ({ role: "user", content })), { userId: "u", threadId: `s${session}` });
  }
  const batchedRate = texts.length / ((performance.now() - start) / 1000);
  await batched.close();

  // Memory.add, one turn per call, as a live agent files each turn.
  const single = new Memory({ dataDir: join(dir, "single"), chroma: { url: server.url }, embeddings: new LocalEmbeddings() });
  await single.add("warm up", { userId: "warm" });
  const perCall: number[] = [];
  start = performance.now();
  for (const text of texts) {
    const t = performance.now();
    await single.add([{ role: "user", content: text }], { userId: "u", threadId: "live" });
    perCall.push(performance.now() - t);
  }
  const singleRate = texts.length / ((performance.now() - start) / 1000);
  await single.close();

  const add = summarize(perCall);
  const rows = [
    ["local model alone (batches of 32)", modelRate, "–", "–"],
    ["Memory.add, a session per call", batchedRate, "–", "–"],
    ["Memory.add, one turn per call", singleRate, add.p50.toFixed(1), add.p95.toFixed(1)],
  ] as const;
  const markdown = [
    `${texts.length} LoCoMo turns (${conv.sampleId}), local embeddings (USE-Lite) computed for real, one local Chroma server.`,
    "",
    "| path | records/s | add p50 (ms) | add p95 (ms) |",
    "|---|---:|---:|---:|",
    ...rows.map(([name, rate, p50, p95]) => `| ${name} | ${rate.toFixed(0)} | ${p50} | ${p95} |`),
  ].join("\n");
  console.log(markdown);
  await mkdir(opts.out, { recursive: true });
  await writeFile(
    join(opts.out, "ingest.json"),
    JSON.stringify(
      {
        title: "Ingest throughput with the local embeddings",
        command: `node --import tsx src/ingest.ts --turns ${turns}`,
        machine: machineInfo(),
        turns: texts.length,
        modelTextsPerSecond: modelRate,
        batchedRecordsPerSecond: batchedRate,
        singleRecordsPerSecond: singleRate,
        singleAdd: add,
        markdown,
      },
      null,
      2,
    ),
  );
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
