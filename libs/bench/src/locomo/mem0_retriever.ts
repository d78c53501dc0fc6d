/**
 * mem0 (the `mem0ai` npm package, open-source `Memory` from `mem0ai/oss`) as a peer row of the
 * LoCoMo harness, offline and without an LLM:
 *
 * - embeddings: the run's own embeddings (`ctx.embeddings`, engram's LocalEmbeddings, cached by
 *   text) through mem0's `langchain` embedder provider, so the rows compare on the same model;
 * - vector store: mem0's `memory` provider (SQLite file, brute-force cosine + BM25 over every row),
 *   history: mem0's SQLite history store, both in the run's temporary folder;
 * - `infer: false`: every turn is stored verbatim (no extraction); the LLM is a stub that throws,
 *   so a call to it would fail the run instead of going to the network;
 * - telemetry off (`MEM0_TELEMETRY=false`, read when the module loads: hence the dynamic import),
 *   and `MEM0_DIR` pointed into the temporary folder while the row runs: mem0 otherwise writes
 *   `~/.mem0/config.json` (an anonymous id).
 *
 * One Memory for the run, one mem0 user per conversation. Each turn is added as it arrives:
 * `add([{ role: "user", content: "<speaker>: <text>" }], { userId, infer: false, metadata: { diaId } })`.
 * Rank = `search(question, { filters: { user_id }, topK: k })`, each result's `metadata.diaId`
 * (mem0 returns the stored payload minus its own keys as `metadata`).
 */
import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Memory, MemoryConfig } from "mem0ai/oss";
import { turnContent, type Retriever, type RetrieverContext } from "./retrievers.js";

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
  let memory: Memory | undefined;
  let opening: Promise<Memory> | undefined;
  let previousEnv: { dir: string | undefined } | undefined;
  const addLatencies: number[] = [];
  let missingDiaId = 0;
  let shortRankings = 0;

  const open = (): Promise<Memory> => {
    opening ??= (async () => {
      const dataDir = await mkdtemp(join(ctx.tmpDir, `mem0-${run}-`));
      const home = join(dataDir, "home");
      await mkdir(home, { recursive: true });
      previousEnv = { dir: process.env.MEM0_DIR };
      process.env.MEM0_DIR = home; // mem0's config.json (anonymous id, notices) goes here, not to ~/.mem0
      process.env.MEM0_TELEMETRY = "false"; // must be set before the module loads
      const { Memory } = await import("mem0ai/oss");
      const dimension = (await ctx.embeddings.embedQuery("dimension probe")).length; // also loads the model, outside the timings
      memory = new Memory(mem0Config(ctx, dataDir, dimension));
      return memory;
    })();
    return opening;
  };

  return {
    name: options.name ?? "mem0",
    description:
      "mem0ai OSS Memory (npm mem0ai 3.3) with the same local embeddings (langchain embedder provider), " +
      "vector store \"memory\" (SQLite, semantic + BM25 fusion), SQLite history, telemetry off, no LLM: " +
      "one add per turn with infer: false, search(question, { filters: { user_id }, topK: k }), default threshold 0.1",
    addLatencies,
    async ingest(conv, progress) {
      const m = await open();
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
      const m = await open();
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
      const m = memory;
      memory = undefined;
      opening = undefined;
      if (m) closeSqlite(m);
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
