/**
 * Leak bench: one `Memory` and one graph in one process serve many users and threads, as a server
 * does for weeks. N users x M threads each go through `Memory.add`, `Memory.search` and two turns of
 * `createMemoryGraph` (a scripted chat model, no LLM; the static embedding model), and through the
 * chat history door (`EngramChatMessageHistory`, its default in-memory history). Every
 * `--every` users the writes are flushed, the GC runs twice and the heap, array buffers, RSS and
 * active handles are sampled. The application's own stores are emptied per thread (the graph's
 * `MemorySaver` thread is deleted, the chat history cleared) so what stays is Engram's.
 * A bench, not a test: it prints figures and writes them to a file.
 *
 *   cd libs/bench && node --expose-gc --import tsx src/leak/users.ts [--users 3000] [--threads 2] [--every 1000] [--recall-users 100] [--label now]
 *
 * Reported: each sample and the heap growth per 1,000 users between consecutive samples. Caches
 * (the recall indexes up to `recallIndex.maxUsers`, the store's collection handles, the embedding
 * cache, the per-thread states kept up to 10,000 threads) fill first; past them a process without
 * leaks stays level, and a leak keeps growing by the same amount per 1,000 users.
 */
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
import { formatMachine, machineInfo } from "../machine.js";
import { Memory } from "../../../engram/src/memory/memory.js";
import { StaticEmbeddings } from "../../../engram/src/embeddings/static.js";
import { startChromaServer } from "../../../engram/src/store/chroma_server.js";
import { createMemoryGraph } from "../../../engram/src/graph/agent.js";
import { EngramChatMessageHistory } from "../../../engram/src/adapters/chat_history/history.js";

const opts = new Command()
  .option("--users <n>", "distinct users, served one after another", "3000")
  .option("--threads <n>", "threads per user", "2")
  .option("--every <n>", "users between samples", "1000")
  .option("--recall-users <n>", "recallIndex.maxUsers: a small one fills early, so what grows past it is not that cache", "100")
  .option("--label <name>", "name of this run in the report", "now")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ users: string; threads: string; every: string; recallUsers: string; label: string; out: string }>();

/** "OK." to every turn, with an id derived from the human message's (no LLM). */
class ScriptedChat extends BaseChatModel {
  constructor() {
    super({});
  }

  _llmType(): string {
    return "scripted-leak";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const human = [...messages].reverse().find((m) => m.getType() === "human");
    const message = new AIMessage({ content: "OK, noted.", ...(typeof human?.id === "string" ? { id: `${human.id}-reply` } : {}) });
    return { generations: [{ text: "OK, noted.", message }] };
  }
}

interface Sample {
  users: number;
  heapUsedMiB: number;
  arrayBuffersMiB: number;
  rssMiB: number;
  handles: number;
  seconds: number;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
const TOPICS = ["garden", "bike", "sister", "recipe", "trip", "book", "job", "dog", "piano", "flat"];

/** Heap growth per 1,000 users between consecutive samples. */
function perThousandOf(samples: readonly Sample[]): Array<{ toUsers: number; heapMiB: number }> {
  return samples.slice(1).map((row, i) => {
    const before = samples[i]!;
    return { toUsers: row.users, heapMiB: Math.round(((row.heapUsedMiB - before.heapUsedMiB) / ((row.users - before.users) / 1000)) * 100) / 100 };
  });
}

/** Writes the figures so far (after every sample: a run stopped early keeps what it measured). */
async function writeReport(samples: readonly Sample[], users: number, threads: number, every: number): Promise<string> {
  const report = {
    label: opts.label,
    machine: machineInfo(),
    users,
    threadsPerUser: threads,
    every,
    recallUsers: Number(opts.recallUsers),
    complete: samples.at(-1)?.users === users,
    samples,
    heapMiBPer1000Users: perThousandOf(samples),
  };
  await mkdir(opts.out, { recursive: true });
  const file = join(opts.out, `leak-users-${opts.label}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  const users = positiveInt(opts.users);
  const threads = positiveInt(opts.threads);
  const every = positiveInt(opts.every);
  const dir = await mkdtemp(join(tmpdir(), "engram-leak-"));
  const server = await startChromaServer({ path: join(dir, "chroma") });
  const embeddings = new StaticEmbeddings();
  const memory = new Memory({ dataDir: join(dir, "data"), chroma: { url: server.url }, embeddings, writes: "background", recallIndex: { maxUsers: positiveInt(opts.recallUsers) } });
  const saver = new MemorySaver();
  const graph = createMemoryGraph({ memory, model: new ScriptedChat(), checkpointer: saver, onWarning: (message) => console.warn(`warning: ${message}`) });
  const started = performance.now();
  const samples: Sample[] = [];
  const sample = async (served: number): Promise<void> => {
    await memory.flush();
    gc();
    gc();
    const usage = process.memoryUsage();
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    const row = {
      users: served,
      heapUsedMiB: mib(usage.heapUsed),
      arrayBuffersMiB: mib(usage.arrayBuffers),
      rssMiB: mib(usage.rss),
      handles,
      seconds: Math.round((performance.now() - started) / 1000),
    };
    samples.push(row);
    await writeReport(samples, users, threads, every);
    console.log(`${row.users} users: heap ${row.heapUsedMiB} MiB, array buffers ${row.arrayBuffersMiB} MiB, rss ${row.rssMiB} MiB, handles ${row.handles} (${row.seconds} s)`);
  };
  try {
    await sample(0);
    for (let u = 0; u < users; u += 1) {
      const userId = `user-${u}`;
      for (let t = 0; t < threads; t += 1) {
        const threadId = `${userId}-thread-${t}`;
        const topic = TOPICS[(u + t) % TOPICS.length]!;
        await memory.add([{ role: "user", content: `My ${topic} is the thing I think about most, said in thread ${t}.` }], { userId, threadId });
        await memory.search(`what about my ${topic}?`, { userId, limit: 5 });
        const config = { configurable: { user_id: userId, thread_id: threadId } };
        await graph.invoke({ messages: [new HumanMessage({ content: `I moved my ${topic} to the shed on day ${u}.`, id: `${threadId}-1` })] }, config);
        await graph.invoke({ messages: [new HumanMessage({ content: `Where is my ${topic} now?`, id: `${threadId}-2` })] }, config);
        await saver.deleteThread(threadId);
        const history = new EngramChatMessageHistory({ memory, userId, threadId: `${threadId}-chat` });
        await history.addMessages([new HumanMessage(`My ${topic} needs a new coat of paint.`), new AIMessage("I will remember that.")]);
        await history.flush();
        await history.clear();
      }
      if ((u + 1) % every === 0 || u + 1 === users) await sample(u + 1);
    }
  } finally {
    await memory.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(formatMachine(machineInfo()));
  console.log("heap MiB per 1,000 users:", JSON.stringify(perThousandOf(samples)));
  console.log(`written: ${await writeReport(samples, users, threads, every)}`);
}

await main();
