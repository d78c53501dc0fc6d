/**
 * The turn's latency with fact extraction on: what `Memory.add` costs an agent per turn when a
 * chat model extracts and reconciles facts, with Engram's background queue (the default) against
 * the same extraction run inside `add` (`facts: { background: false }`, the way mem0's `add`
 * works), and against no extraction at all. The model is a fake that takes 500 ms per call and
 * answers valid JSON; the embeddings (local model) and the Chroma server are real.
 *
 *   node --import tsx src/facts_latency.ts [--turns 40] [--sync-turns 12] [--model-ms 500] [--out bench-results]
 *
 * Turns are added back to back (no think time), which is the worst case for the background path:
 * earlier turns' extraction (embedding, recall, writes) runs in the same process while later
 * turns are being measured.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { LocalEmbeddings, Memory, startChromaServer, type FactOptions } from "engram";
// Not public: the bench times the entity tagger itself.
import { extractEntities } from "../../engram/src/scoring/entities.js";
import { machineInfo } from "./machine.js";
import { summarize, type LatencySummary } from "./stats.js";

const opts = new Command()
  .option("--turns <n>", "turns measured with background extraction and without extraction", "40")
  .option("--sync-turns <n>", "turns measured with extraction inside add (each takes over a second)", "12")
  .option("--model-ms <ms>", "latency of each fake model call", "500")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ turns: string; syncTurns: string; modelMs: string; out: string }>();
const turns = Number(opts.turns);
const syncTurns = Number(opts.syncTurns);
const modelMs = Number(opts.modelMs);

/**
 * A chat model that sleeps, then answers like a good extraction model: one fact per exchange, and
 * ADD for every new fact on reconciliation. Counts its calls.
 */
class SleepyFactModel extends BaseChatModel {
  calls = 0;

  constructor(private readonly ms: number) {
    super({});
  }

  _llmType(): string {
    return "sleepy-fact-fake";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.calls += 1;
    await new Promise((done) => setTimeout(done, this.ms));
    const system = messages[0]?.text ?? "";
    const prompt = messages.map((message) => message.text).join("\n");
    let text: string;
    if (system.startsWith("You extract durable facts")) {
      const said = /user: (.*)/.exec(prompt)?.[1] ?? "something";
      text = JSON.stringify({ facts: [{ text: `User said that ${said}`, entities: [] }] });
    } else {
      const count = (/New facts:\n([\s\S]*)$/.exec(prompt)?.[1]?.match(/"fact":/g) ?? []).length;
      text = JSON.stringify({ decisions: Array.from({ length: count }, (_, fact) => ({ fact, event: "ADD" })) });
    }
    return { generations: [{ text, message: new AIMessage(text) }] };
  }
}

const TOPICS = ["hiking", "jazz", "sourdough", "chess", "kayaking", "pottery", "sushi", "running", "poetry", "gardening"];
const CITIES = ["Lisbon", "Oslo", "Kyoto", "Lima", "Accra", "Hanoi", "Quito", "Tallinn"];

function exchange(i: number): Array<{ role: string; content: string }> {
  const topic = TOPICS[i % TOPICS.length]!;
  const city = CITIES[i % CITIES.length]!;
  return [
    { role: "user", content: `Turn ${i}: I got into ${topic} while living in ${city}, and I still do it every week.` },
    { role: "assistant", content: `That sounds great. How did you start with ${topic} in ${city}?` },
  ];
}

interface Config {
  name: string;
  model?: SleepyFactModel;
  facts?: FactOptions;
  writes?: "sync" | "background";
}

interface Run {
  name: string;
  turns: number;
  add: LatencySummary;
  /** Time for flush() after the last turn: what was still running in the background. */
  flushMs: number;
  modelCalls: number;
  facts: number;
}

const dir = await mkdtemp(join(tmpdir(), "engram-facts-latency-"));
const server = await startChromaServer({ path: join(dir, "chroma") });
const embeddings = new LocalEmbeddings();
await embeddings.embedDocuments(["warm up the model"]);

function open(config: Config): Memory {
  return new Memory({
    dataDir: join(dir, config.name),
    prefix: config.name,
    embeddings,
    chroma: { url: server.url },
    ...(config.writes ? { writes: config.writes } : {}),
    ...(config.model ? { model: config.model, facts: config.facts ?? {} } : {}),
  });
}

/**
 * Measures configurations turn by turn in rotation, so that all of them see the same machine load
 * (the machine is shared: a configuration measured alone a minute later would see another load).
 */
/** Two parts of every add, timed alone in the same rotation: the floor under any configuration. */
const parts = { embedding: [] as number[], entities: [] as number[] };

async function measure(configs: Config[], count: number): Promise<Run[]> {
  const memories = configs.map(open);
  const samples = configs.map((): number[] => []);
  try {
    for (const memory of memories) {
      // Warm-up of each user: opens the database and the tagger, and creates the user's collection
      // (a one-off of about half a second per user, which would otherwise be the p95 of 40 turns).
      for (let u = 0; u < 4; u += 1) await memory.add(exchange(-1 - u), { userId: `user-${u}`, threadId: "warmup", infer: false });
      await memory.flush();
    }
    for (let i = 0; i < count; i += 1) {
      const userId = `user-${i % 4}`;
      for (let k = 0; k < memories.length; k += 1) {
        const j = (i + k) % memories.length;
        const start = performance.now();
        await memories[j]!.add(exchange(i), { userId, threadId: `${userId}-thread` });
        samples[j]!.push(performance.now() - start);
      }
      if (configs.length > 1) {
        const texts = exchange(i).map((message) => message.content);
        let start = performance.now();
        await embeddings.embedDocuments(texts);
        parts.embedding.push(performance.now() - start);
        start = performance.now();
        for (const text of texts) extractEntities(text);
        parts.entities.push(performance.now() - start);
      }
    }
    const runs: Run[] = [];
    for (let j = 0; j < memories.length; j += 1) {
      const flushStart = performance.now();
      await memories[j]!.flush();
      const flushMs = performance.now() - flushStart;
      let stored = 0;
      for (let u = 0; u < 4; u += 1) stored += (await memories[j]!.getAll({ userId: `user-${u}`, kind: "fact", limit: 10_000 })).length;
      runs.push({ name: configs[j]!.name, turns: count, add: summarize(samples[j]!), flushMs, modelCalls: configs[j]!.model?.calls ?? 0, facts: stored });
    }
    return runs;
  } finally {
    for (const memory of memories) await memory.close();
  }
}

try {
  const loadBefore = loadavg()[0]!;
  const runs: Run[] = [
    ...(await measure(
      [
        { name: "none", writes: "sync" },
        { name: "background", model: new SleepyFactModel(modelMs), writes: "sync" },
        { name: "background-writes", model: new SleepyFactModel(modelMs), writes: "background" },
      ],
      turns,
    )),
    ...(await measure([{ name: "synchronous", model: new SleepyFactModel(modelMs), facts: { background: false }, writes: "sync" }], syncTurns)),
  ];
  const loadAfter = loadavg()[0]!;

  const fmt = (ms: number): string => ms.toFixed(1);
  const signed = (ms: number): string => `${ms >= 0 ? "+" : ""}${ms.toFixed(1)}`;
  const none = runs.find((run) => run.name === "none")!;
  const markdown = [
    `Memory.add per turn (a user message and the assistant's reply), fake chat model taking ${modelMs} ms per call, local embeddings and a local Chroma server for real; turns back to back, 4 users; the first three configurations measured in rotation, turn by turn. Machine load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${machineInfo().cpus} cores.`,
    "",
    "none: no chat model, `writes: \"sync\"`. background: extraction queued, run off the hot path (the default), with `writes: \"sync\"` (add waits for the model to embed the messages and for Chroma). background-writes: the defaults, `writes: \"background\"` too (add returns once the records are durable in the outbox; the model embeds them and Chroma stores them right after). synchronous: `facts: { background: false }`, add waits for extraction and reconciliation, as mem0's add does. Each user's first add (which creates the user's collection) is a warm-up, not timed.",
    "",
    "| extraction | turns | add p50 (ms) | add p95 (ms) | add max (ms) | p50 vs none (ms) | flush after (ms) | model calls | facts stored |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...runs.map((run) =>
      `| ${run.name} | ${run.turns} | ${fmt(run.add.p50)} | ${fmt(run.add.p95)} | ${fmt(run.add.max)} | ${signed(run.add.p50 - none.add.p50)} | ${fmt(run.flushMs)} | ${run.modelCalls} | ${run.facts} |`,
    ),
    "",
    `Parts of each add, timed alone in the same rotation: embedding the two messages p50 ${fmt(summarize(parts.embedding).p50)} ms (p95 ${fmt(summarize(parts.embedding).p95)}), offline entity tagging p50 ${fmt(summarize(parts.entities).p50)} ms (p95 ${fmt(summarize(parts.entities).p95)}).`,
  ].join("\n");
  console.log(markdown);
  for (const name of ["background", "background-writes"]) {
    const run = runs.find((r) => r.name === name)!;
    console.log(`Hot path, ${name}: p50 ${fmt(run.add.p50)} ms, p95 ${fmt(run.add.p95)} ms (target: under 25 ms).`);
  }
  const out = resolve(process.cwd(), opts.out);
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, "facts-latency.json"),
    JSON.stringify(
      {
        // title + markdown: src/report/ puts it on the benchmarks page as a section.
        title: "Fact extraction off the hot path",
        machine: machineInfo(),
        loadAverage: { before: loadBefore, after: loadAfter },
        modelMs,
        runs,
        parts: { embedding: summarize(parts.embedding), entities: summarize(parts.entities) },
        targetMs: 25,
        markdown,
      },
      null,
      2,
    ) + "\n",
  );
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
