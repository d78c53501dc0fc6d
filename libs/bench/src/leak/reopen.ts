/**
 * Leak bench: a process that opens and closes `Memory` objects for weeks (one per tenant, or one
 * per request in a serverless handler kept warm). Each round opens a `Memory` on its own data
 * folder and a shared Chroma server, adds, searches, runs two graph turns, and closes it. Every
 * `--every` rounds the GC runs twice and the heap, array buffers, RSS, open file descriptors and
 * active handles are sampled: what a closed Memory leaves behind grows with the rounds.
 * A bench, not a test: it prints figures and writes them to a file.
 *
 *   cd libs/bench && node --expose-gc --import tsx src/leak/reopen.ts [--rounds 300] [--every 100] [--idle-ms 3600000] [--label now]
 */
import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { MemorySaver } from "@langchain/langgraph";
import { Command } from "commander";
import { positiveInt } from "../cli_args.js";
import { machineInfo, formatMachine } from "../machine.js";
import { Memory } from "../../../engram/src/memory/memory.js";
import { StaticEmbeddings } from "../../../engram/src/embeddings/static.js";
import { startChromaServer } from "../../../engram/src/store/chroma_server.js";
import { createMemoryGraph } from "../../../engram/src/graph/agent.js";

const opts = new Command()
  .option("--rounds <n>", "Memory objects opened and closed, one after another", "300")
  .option("--every <n>", "rounds between samples", "100")
  .option("--idle-ms <n>", "the graph's idleMs (0: none)", "3600000")
  .option("--label <name>", "name of this run in the report", "now")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ rounds: string; every: string; idleMs: string; label: string; out: string }>();

/** "OK." to every turn (no LLM). */
class ScriptedChat extends BaseChatModel {
  constructor() {
    super({});
  }

  _llmType(): string {
    return "scripted-reopen";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const human = [...messages].reverse().find((m) => m.getType() === "human");
    const message = new AIMessage({ content: "OK.", ...(typeof human?.id === "string" ? { id: `${human.id}-reply` } : {}) });
    return { generations: [{ text: "OK.", message }] };
  }
}

interface Sample {
  rounds: number;
  heapUsedMiB: number;
  arrayBuffersMiB: number;
  rssMiB: number;
  fds: number;
  handles: number;
  seconds: number;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  const rounds = positiveInt(opts.rounds);
  const every = positiveInt(opts.every);
  const idleMs = Number(opts.idleMs);
  const dir = await mkdtemp(join(tmpdir(), "engram-reopen-"));
  const server = await startChromaServer({ path: join(dir, "chroma") });
  // One model for every round, as a process would keep it (its load is not what is measured).
  const embeddings = new StaticEmbeddings();
  const started = performance.now();
  const samples: Sample[] = [];
  const write = async (): Promise<string> => {
    const perHundred = samples.slice(1).map((row, i) => ({
      toRounds: row.rounds,
      heapMiB: Math.round(((row.heapUsedMiB - samples[i]!.heapUsedMiB) / ((row.rounds - samples[i]!.rounds) / 100)) * 100) / 100,
      fds: row.fds - samples[i]!.fds,
      handles: row.handles - samples[i]!.handles,
    }));
    const report = { label: opts.label, machine: machineInfo(), rounds, every, idleMs, complete: samples.at(-1)?.rounds === rounds, samples, per100Rounds: perHundred };
    await mkdir(opts.out, { recursive: true });
    const file = join(opts.out, `leak-reopen-${opts.label}.json`);
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    return file;
  };
  const sample = async (done: number): Promise<void> => {
    gc();
    gc();
    const usage = process.memoryUsage();
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    const row = { rounds: done, heapUsedMiB: mib(usage.heapUsed), arrayBuffersMiB: mib(usage.arrayBuffers), rssMiB: mib(usage.rss), fds: readdirSync("/proc/self/fd").length, handles, seconds: Math.round((performance.now() - started) / 1000) };
    samples.push(row);
    await write();
    console.log(`${row.rounds} rounds: heap ${row.heapUsedMiB} MiB, array buffers ${row.arrayBuffersMiB} MiB, rss ${row.rssMiB} MiB, fds ${row.fds}, handles ${row.handles} (${row.seconds} s)`);
  };
  try {
    // A first round before the baseline: what every process loads once (the model, LangGraph) is not a leak.
    for (let round = -1; round < rounds; round += 1) {
      const dataDir = join(dir, `tenant-${round + 1}`);
      const memory = new Memory({ dataDir, chroma: { url: server.url }, embeddings, prefix: `t${round + 1}`, writes: "background" });
      const graph = createMemoryGraph({ memory, model: new ScriptedChat(), checkpointer: new MemorySaver(), ...(idleMs > 0 ? { idleMs } : {}), onWarning: () => undefined });
      await memory.add("I keep my bike in the shed behind the house.", { userId: "ana", threadId: "t1" });
      await memory.search("where is my bike?", { userId: "ana", limit: 5 });
      const config = { configurable: { user_id: "ana", thread_id: "t1" } };
      await graph.invoke({ messages: [new HumanMessage({ content: "I moved my bike to the garage.", id: "h1" })] }, config);
      await graph.invoke({ messages: [new HumanMessage({ content: "Where is my bike now?", id: "h2" })] }, config);
      await memory.close();
      await rm(dataDir, { recursive: true, force: true });
      if (round === -1) await sample(0);
      else if ((round + 1) % every === 0 || round + 1 === rounds) await sample(round + 1);
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(formatMachine(machineInfo()));
  console.log(`written: ${await write()}`);
}

await main();
