/**
 * mem0 (the `mem0ai` npm package, open-source `Memory` from `mem0ai/oss`) as a peer row of the
 * LoCoMo harness, offline and without an LLM:
 *
 * - embeddings: the run's default model (`ctx.embeddings`, what `new Memory()` embeds with, cached
 *   by text) through mem0's `langchain` embedder provider, so the rows compare on the same model;
 * - vector store: mem0's `memory` provider (SQLite file, brute-force cosine + BM25 over every row),
 *   history: mem0's SQLite history store, both in the run's temporary folder;
 * - `infer: false`: every turn is stored verbatim (no extraction); the LLM is a stub that throws,
 *   so a call to it would fail the run instead of going to the network;
 * - telemetry off (`MEM0_TELEMETRY=false`, read when the module loads: hence the dynamic import),
 *   and `MEM0_DIR` pointed into the temporary folder while the row runs: mem0 otherwise writes
 *   `~/.mem0/config.json` (an anonymous id).
 *
 * One mem0 user per conversation, each in a Memory (and SQLite files) of its own. mem0's
 * "memory" store scans every row of its file on each search and keeps those of the user
 * (semantic, BM25 and entity searches alike; BM25's statistics are computed over the user's rows
 * only): one file per user returns the same rankings as one shared file, about five times faster
 * here. Each turn is added as it arrives:
 * `add([{ role: "user", content: "<speaker>: <text>" }], { userId, infer: false, metadata: { diaId } })`.
 * Rank = `search(question, { filters: { user_id }, topK: k })`, each result's `metadata.diaId`
 * (mem0 returns the stored payload minus its own keys as `metadata`). The runner asks once for the
 * largest k and reads the smaller ones from that ranking (mem0's semantic pool is max(4k, 60)
 * candidates: 100 at k = 25).
 */
import { mkdir, mkdtemp } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Memory, MemoryConfig } from "mem0ai/oss";
import { MODEL_LABELS } from "./embeddings.js";
import { turnContent, type Retriever, type RetrieverContext } from "./retrievers.js";

/** The installed mem0ai version, for the row's description. */
const MEM0_VERSION = readMem0Version();

function readMem0Version(): string {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve("mem0ai/oss");
    const root = entry.slice(0, entry.lastIndexOf("/dist/"));
    return (require(`${root}/package.json`) as { version: string }).version;
  } catch {
    return "3.x";
  }
}

/** The mem0 configuration the row uses (exported for the report and for checks). */
export function mem0Config(ctx: RetrieverContext, dataDir: string, dimension: number): MemoryConfig {
  return {
    version: "v1.1",
    embedder: { provider: "langchain", config: { model: ctx.embeddings } },
    vectorStore: {
      provider: "memory",
      config: { collectionName: "locomo", dimension, dbPath: join(dataDir, "vector_store.db") },
    },
    llm: { provider: "langchain", config: { model: offlineLlm } },
    historyStore: { provider: "sqlite", config: { historyDbPath: join(dataDir, "history.db") } },
  };
}

/** A LangChain-shaped chat model that must never be called (`infer: false` keeps mem0 off the LLM). */
const offlineLlm = {
  model: "none (infer: false)",
  async invoke(): Promise<never> {
    throw new Error("mem0 called its LLM although every add uses infer: false");
  },
};

let mem0Runs = 0;

export function mem0Retriever(ctx: RetrieverContext, options: { name?: string } = {}): Retriever {
  const run = ++mem0Runs;
  const memories = new Map<string, Memory>();
  let setup: Promise<{ dir: string; create: (sampleId: string) => Memory }> | undefined;
  let previousEnv: { dir: string | undefined } | undefined;
  const addLatencies: number[] = [];
  let missingDiaId = 0;
  let shortRankings = 0;

  const prepare = () => {
    setup ??= (async () => {
      const dir = await mkdtemp(join(ctx.tmpDir, `mem0-${run}-`));
      const home = join(dir, "home");
      await mkdir(home, { recursive: true });
      previousEnv = { dir: process.env.MEM0_DIR };
      process.env.MEM0_DIR = home; // mem0's config.json (anonymous id, notices) goes here, not to ~/.mem0
      process.env.MEM0_TELEMETRY = "false"; // must be set before the module loads
      const { Memory } = await import("mem0ai/oss");
      const dimension = (await ctx.embeddings.embedQuery("dimension probe")).length; // also loads the model, outside the timings
      return { dir, create: (sampleId: string) => new Memory(mem0Config(ctx, join(dir, sampleId), dimension)) };
    })();
    return setup;
  };

  /** The conversation's own mem0 Memory (its files in a folder of its own). */
  const open = async (sampleId: string): Promise<Memory> => {
    const existing = memories.get(sampleId);
    if (existing) return existing;
    const { dir, create } = await prepare();
    await mkdir(join(dir, sampleId), { recursive: true });
    const memory = create(sampleId);
    memories.set(sampleId, memory);
    return memory;
  };

  return {
    name: options.name ?? `mem0, ${MODEL_LABELS[ctx.defaultModel]}`,
    model: ctx.modelIds[ctx.defaultModel],
    description:
      `mem0ai OSS Memory (npm mem0ai ${MEM0_VERSION}) with the run's default embeddings (${ctx.modelIds[ctx.defaultModel]}, langchain embedder provider), ` +
      "vector store \"memory\" (SQLite, semantic + BM25 + entity fusion), SQLite history, telemetry off, no LLM: " +
      "one add per turn with infer: false, search(question, { filters: { user_id }, topK: 25 }), default threshold 0.1; one Memory per conversation",
    addLatencies,
    async ingest(conv, progress) {
      const m = await open(conv.sampleId);
      for (const turn of conv.turns) {
        const start = performance.now();
        await m.add([{ role: "user", content: turnContent(turn) }], {
          userId: conv.sampleId,
          infer: false,
          metadata: { diaId: turn.diaId },
        });
        addLatencies.push(performance.now() - start);
        progress?.(1);
      }
    },
    async rank(conv, question, k) {
      const m = await open(conv.sampleId);
      const { results } = await m.search(question.question, { filters: { user_id: conv.sampleId }, topK: k });
      const ids: string[] = [];
      for (const item of results) {
        const diaId: unknown = item.metadata?.diaId;
        if (typeof diaId === "string") ids.push(diaId);
        else missingDiaId++;
      }
      if (results.length < k) shortRankings++;
      return ids;
    },
    async close() {
      if (missingDiaId > 0) process.stderr.write(`WARNING: mem0 returned ${missingDiaId} results without metadata.diaId\n`);
      if (shortRankings > 0) {
        process.stderr.write(`mem0: ${shortRankings} searches returned fewer than k results (its similarity threshold, 0.1)\n`);
      }
      for (const m of memories.values()) closeSqlite(m);
      memories.clear();
      setup = undefined;
      if (previousEnv) {
        if (previousEnv.dir === undefined) delete process.env.MEM0_DIR;
        else process.env.MEM0_DIR = previousEnv.dir;
        previousEnv = undefined;
      }
      // The data folder is inside ctx.tmpDir, which the runner removes.
    },
  };
}

/**
 * mem0's Memory has no close(): close the SQLite handles it holds (vector store, entity store,
 * history) so the files can be removed. Private fields, hence the defensive access.
 */
function closeSqlite(memory: Memory): void {
  const m = memory as unknown as Record<string, { db?: { close?: () => void }; close?: () => void } | undefined>;
  for (const key of ["vectorStore", "_entityStore"]) {
    try {
      m[key]?.db?.close?.();
    } catch {
      // already closed
    }
  }
  try {
    m["db"]?.close?.();
  } catch {
    // already closed
  }
}
