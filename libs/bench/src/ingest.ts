/**
 * Ingest throughput, end to end, per embedding model (the default static model and USE-Lite, in
 * one run): what a user pays to put turns into Engram. Against one local Chroma server started here:
 * - the model alone (`embedDocuments` of every text in one call), texts/s;
 * - a bulk import of one user's turns: `Memory.add` of up to `--batch` messages per call (one
 *   thread per session), then `flush()`; records/s until every record is in Chroma;
 * - one turn per `add`, as a live agent files each turn: the default background writes (add
 *   p50/p95, and records/s until the last `flush()` returns) and `writes: "sync"`.
 * Texts are LoCoMo dev turns, repeated with a round number when more are asked for than exist, so
 * their lengths are real and every text is distinct.
 *
 *   node --import tsx src/ingest.ts [--models static,use-lite] [--bulk 10000] [--turns 1000] [--use-lite-turns 300]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { LocalEmbeddings, Memory, StaticEmbeddings } from "engram";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { loadLocomo } from "./locomo/data.js";
import { turnContent } from "./locomo/retrievers.js";
import { machineInfo } from "./machine.js";
import { Scratch } from "./scratch.js";
import { summarize, type LatencySummary } from "./stats.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const opts = new Command()
  .option("--data <path>", "LoCoMo json", resolve(REPO_ROOT, "../shared/bench/locomo/locomo-dev.json"))
  .option("--models <list>", "embedding models (static, use-lite)", "static,use-lite")
  .option("--bulk <n>", "turns of the bulk import (static model)", "10000")
  .option("--turns <n>", "turns added one per call (static model)", "1000")
  .option("--use-lite-turns <n>", "turns of every USE-Lite measurement (it runs at tens of turns/s)", "300")
  .option("--batch <n>", "messages per add call in the bulk import", "1000")
  .option("--no-entities", "switch entity tagging off (entities: { extract: false, boost: 0 }), to see its share")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ data: string; models: string; bulk: string; turns: string; useLiteTurns: string; batch: string; entities: boolean; out: string }>();

interface Texts {
  text: string;
  session: number;
}

const conversations = await loadLocomo(opts.data);
const pool: Texts[] = conversations.flatMap((c) => c.turns.map((t) => ({ text: turnContent(t), session: t.session + 1_000 * conversations.indexOf(c) })));
/** `n` distinct turns: the dev turns in order, then again with a round number. */
function textsOf(n: number): Texts[] {
  return Array.from({ length: n }, (_, i) => {
    const base = pool[i % pool.length]!;
    const round = Math.floor(i / pool.length);
    return round === 0 ? base : { text: `${base.text} (round ${round + 1})`, session: base.session + 100_000 * round };
  });
}

function make(model: string): EmbeddingsInterface {
  if (model === "static") return new StaticEmbeddings();
  if (model === "use-lite") return new LocalEmbeddings();
  throw new Error(`unknown model ${model}`);
}

interface Row {
  model: string;
  path: string;
  records: number;
  perSecond: number;
  add?: LatencySummary;
}

const rows: Row[] = [];
const scratch = await Scratch.open("engram-ingest-");
try {
  const server = await scratch.startServer();
  for (const model of opts.models.split(",").map((m) => m.trim())) {
    const isStatic = model === "static";
    const bulk = textsOf(isStatic ? Number(opts.bulk) : Number(opts.useLiteTurns));
    const single = textsOf(isStatic ? Number(opts.turns) : Number(opts.useLiteTurns));
    const open = (name: string, writes?: "sync"): Memory =>
      new Memory({ dataDir: join(scratch.dir, `${model}-${name}`), chroma: { url: server.url }, embeddings: make(model), ...(writes ? { writes } : {}), ...(opts.entities ? {} : { entities: { extract: false, boost: 0 } }) });

    // The model alone, warm (loaded by a first call).
    const alone = make(model);
    await alone.embedDocuments(["warm up the model"]);
    let start = performance.now();
    await alone.embedDocuments(bulk.map((t) => t.text));
    rows.push({ model, path: "model alone (one embedDocuments call)", records: bulk.length, perSecond: bulk.length / ((performance.now() - start) / 1000) });
    await (alone as { close?: () => Promise<void> }).close?.();

    // Bulk import of one user: many messages per add, one thread per session, then flush.
    const importer = open("bulk");
    await importer.add("warm up", { userId: "warm" });
    await importer.flush();
    const batch = Number(opts.batch);
    start = performance.now();
    for (let first = 0; first < bulk.length; first += batch) {
      const chunk = bulk.slice(first, first + batch);
      const bySession = new Map<number, string[]>();
      for (const t of chunk) bySession.set(t.session, [...(bySession.get(t.session) ?? []), t.text]);
      // One call per session within the chunk: a session is one thread.
      await Promise.all(
        [...bySession].map(([session, texts]) => importer.add(texts.map((content) => ({ role: "user" as const, content })), { userId: "u", threadId: `s${session}` })),
      );
    }
    await importer.flush();
    rows.push({ model, path: `bulk import of one user (add of up to ${batch} messages, then flush)`, records: bulk.length, perSecond: bulk.length / ((performance.now() - start) / 1000) });
    await importer.close();

    // One turn per add, default (background) writes and sync writes.
    for (const writes of [undefined, "sync"] as const) {
      const live = open(writes ?? "background", writes);
      await live.add("warm up", { userId: "warm" });
      await live.flush();
      const perCall: number[] = [];
      start = performance.now();
      for (const t of single) {
        const t0 = performance.now();
        await live.add([{ role: "user", content: t.text }], { userId: "u", threadId: "live" });
        perCall.push(performance.now() - t0);
      }
      await live.flush();
      rows.push({
        model,
        path: `one turn per add (writes: ${writes ?? "background, the default"}; until flushed)`,
        records: single.length,
        perSecond: single.length / ((performance.now() - start) / 1000),
        add: summarize(perCall),
      });
      await live.close();
    }
    process.stderr.write(`${model}: done\n`);
  }
} finally {
  await scratch.close();
}

const markdown = [
  `LoCoMo dev turns (repeated with a round number past 2,760), one user, embeddings computed for real, one local Chroma server${opts.entities ? "" : ", entity tagging off"}.`,
  "",
  "| model | path | records | records/s | add p50 (ms) | add p95 (ms) |",
  "|---|---|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${r.model} | ${r.path} | ${r.records} | ${r.perSecond.toFixed(0)} | ${r.add ? r.add.p50.toFixed(2) : "–"} | ${r.add ? r.add.p95.toFixed(2) : "–"} |`),
].join("\n");
console.log(markdown);
await mkdir(opts.out, { recursive: true });
await writeFile(
  join(opts.out, "ingest.json"),
  JSON.stringify(
    {
      title: "Ingest throughput",
      command: `node --import tsx src/ingest.ts --models ${opts.models} --bulk ${opts.bulk} --turns ${opts.turns} --use-lite-turns ${opts.useLiteTurns}`,
      machine: machineInfo(),
      rows,
      markdown,
    },
    null,
    2,
  ),
);
