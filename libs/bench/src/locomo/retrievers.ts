/**
 * Retrievers compared on LoCoMo. Each one sees every conversation's turns in order (ingest), then
 * ranks turns for each question (dia_ids, best first). One conversation = one user's memory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { ChromaClient, Collection } from "chromadb";
import { Memory, type MemoryOptions } from "engram";
import { Bm25Index, type IdfVariant } from "./bm25.js";
import type { Conversation, Question, Turn } from "./data.js";
import { MODEL_LABELS, type ModelName, type TextEmbedder } from "./embeddings.js";

export interface Retriever {
  /** Row name in the tables. */
  readonly name: string;
  /** One line for the report. */
  readonly description: string;
  /** Sees the conversation's turns in order; `progress(n)` after each n turns stored. */
  ingest(conv: Conversation, progress?: (turns: number) => void): Promise<void>;
  /** Up to k turn ids (dia_ids), best first. */
  rank(conv: Conversation, question: Question, k: number): Promise<string[]>;
  /** The text a returned turn puts into a prompt (its token cost). @default turnContent */
  text?(turn: Turn): string;
  /** The embedding model's id, for rows that embed. */
  readonly model?: string;
  /** Milliseconds of each per-turn add call, for systems that store turns one at a time (engram, mem0). */
  readonly addLatencies?: readonly number[];
  close(): Promise<void>;
}

/** What the retrievers share in one run. */
export interface RetrieverContext {
  /** A client of the one local Chroma server of the run, and its URL (absent when no system needs it). */
  chroma?: { url: string; client: ChromaClient };
  /** The default model's embeddings (what `new Memory()` embeds with), cached by text across the run's systems. */
  embeddings: TextEmbedder;
  /** Which model that is (`--model`, else the library's default). */
  defaultModel: ModelName;
  /** The model `new Memory()` embeds with (asked of the library). */
  libraryDefault: ModelName;
  /** Each model's embeddings (cached by text), for rows that name their model. */
  embeddingsFor(model: ModelName): TextEmbedder;
  /** Each model's id (`modelId`, what a data folder records). */
  modelIds: Record<ModelName, string>;
  /** A folder for temporary data (removed by the runner). */
  tmpDir: string;
}

/** The text of a turn as a memory stores it and returns it into a prompt: `<speaker>: <text>`. */
export function turnContent(turn: Turn): string {
  return `${turn.speaker}: ${turn.text}`;
}

// --- BM25 -------------------------------------------------------------------------------------

export interface Bm25RetrieverOptions {
  name?: string;
  k1?: number;
  b?: number;
  idf?: IdfVariant;
  /** Put the session date in front of each document (the reference does). @default true */
  withDate?: boolean;
  /** Append the shared photo's caption (the reference does not). @default false */
  withCaption?: boolean;
}

/**
 * The BM25 document of a turn. The reference: `<session date> <speaker>: <text>`, without the
 * photo caption (with it, or without the date, the figures move by 1-2 points).
 */
export function bm25Document(turn: Turn, options: { withDate?: boolean; withCaption?: boolean } = {}): string {
  const content = `${turn.speaker}: ${options.withCaption ? turn.text : turn.rawText}`;
  return (options.withDate ?? true) ? `${turn.dateText} ${content}` : content;
}

/**
 * Plain BM25, the README's reference row: k1 1.2, b 0.75, Lucene IDF ln(1 + (N - n + 0.5) / (n + 0.5)),
 * document = session date + speaker + text (no caption). The returned text (token cost) is the document.
 */
export function bm25Retriever(options: Bm25RetrieverOptions = {}): Retriever {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const idf = options.idf ?? "lucene";
  const doc = { withDate: options.withDate ?? true, withCaption: options.withCaption ?? false };
  const indexes = new Map<string, Bm25Index>();
  return {
    name: options.name ?? "bm25",
    description:
      `plain BM25 (k1 ${k1}, b ${b}, ${idf} IDF, lowercase [a-z0-9]+ tokens), ` +
      `document = ${doc.withDate ? "session date + " : ""}speaker + text${doc.withCaption ? " + photo caption" : ""}, one index per conversation`,
    text: (turn) => bm25Document(turn, doc),
    async ingest(conv, progress) {
      indexes.set(conv.sampleId, new Bm25Index(conv.turns.map((t) => bm25Document(t, doc)), { k1, b, idf }));
      progress?.(conv.turns.length);
    },
    async rank(conv, question, k) {
      const index = indexes.get(conv.sampleId);
      if (!index) throw new Error(`bm25: ${conv.sampleId} was not ingested`);
      return index.top(question.question, k).map((i) => conv.turns[i]!.diaId);
    },
    async close() {
      indexes.clear();
    },
  };
}

// --- Recency ----------------------------------------------------------------------------------

/** The last k turns, newest first (the floor). */
export function recencyRetriever(): Retriever {
  return {
    name: "recency",
    description: "the last k turns of the conversation, newest first",
    async ingest(conv, progress) {
      progress?.(conv.turns.length);
    },
    async rank(conv, _question, k) {
      return conv.turns
        .slice(-k)
        .reverse()
        .map((t) => t.diaId);
    },
    async close() {},
  };
}

// --- Dense (raw Chroma) -----------------------------------------------------------------------

const EMBED_BATCH = 256;

/**
 * The local embeddings (engram's LocalEmbeddings) over a raw Chroma collection per conversation,
 * cosine space; the document is `<speaker>: <text>` (what engram stores). No engram logic.
 */
export function denseRetriever(ctx: RetrieverContext, options: { name?: string; prefix?: string; model?: ModelName } = {}): Retriever {
  const chroma = ctx.chroma;
  if (!chroma) throw new Error("dense needs the Chroma server");
  const model = options.model ?? ctx.defaultModel;
  const embeddings = ctx.embeddingsFor(model);
  const prefix = options.prefix ?? `locomo-dense-${model}`;
  const collections = new Map<string, Collection>();
  return {
    name: options.name ?? `dense, ${MODEL_LABELS[model]}`,
    model: ctx.modelIds[model],
    description:
      `the embedding model alone (${ctx.modelIds[model]}, 512-d) over a raw Chroma collection per conversation (cosine), ` +
      "document = speaker + text",
    async ingest(conv, progress) {
      const name = `${prefix}-${conv.sampleId}`;
      await chroma.client.deleteCollection({ name }).catch(() => undefined);
      const collection = await chroma.client.createCollection({
        name,
        embeddingFunction: null,
        metadata: { "hnsw:space": "cosine" },
      });
      collections.set(conv.sampleId, collection);
      for (let start = 0; start < conv.turns.length; start += EMBED_BATCH) {
        const batch = conv.turns.slice(start, start + EMBED_BATCH);
        const vectors = await embeddings.embedDocuments(batch.map(turnContent));
        await collection.add({ ids: batch.map((t) => t.diaId), embeddings: vectors, documents: batch.map(turnContent) });
        progress?.(batch.length);
      }
    },
    async rank(conv, question, k) {
      const collection = collections.get(conv.sampleId);
      if (!collection) throw new Error(`dense: ${conv.sampleId} was not ingested`);
      const vector = await embeddings.embedQuery(question.question);
      const result = await collection.query({ queryEmbeddings: [vector], nResults: k, include: ["distances"] as never });
      return result.ids[0] ?? [];
    },
    async close() {
      for (const collection of collections.values()) {
        await chroma.client.deleteCollection({ name: collection.name }).catch(() => undefined);
      }
      collections.clear();
    },
  };
}

// --- engram -----------------------------------------------------------------------------------

export interface EngramRetrieverOptions {
  /** Row name, e.g. "engram (dense only)". @default "engram" */
  name?: string;
  /** One line for the report. */
  description?: string;
  /** Extra `Memory` options, spread last into the constructor (ablations), e.g. `{ ranker: { lexical: 0 } }`. */
  memoryOptions?: MemoryOptions;
  /**
   * Embed with this model (Memory then uses that model's own ranker defaults, as it does when
   * given the model). @default the library's default model
   */
  model?: ModelName;
}

let engramRuns = 0;

/**
 * A `Memory` over the run's Chroma server (`chroma: { url }`) with a temporary data folder; one
 * userId per conversation. Turns arrive as they would live: one `add` per turn, as a user message
 * `<speaker>: <text>` in thread `session_N`, with `metadata.diaId`; the clock reads the session's
 * date (plus one second per turn of the session, so turns keep their order), and at question time
 * the time of the conversation's last turn. Rank = `search(question, { userId, limit: k })`.
 */
export function engramRetriever(ctx: RetrieverContext, options: EngramRetrieverOptions = {}): Retriever {
  const chroma = ctx.chroma;
  if (!chroma) throw new Error("engram needs the Chroma server");
  const run = ++engramRuns;
  const model = options.model ?? ctx.defaultModel;
  const embeddings = ctx.embeddingsFor(model);
  let now = 0;
  let memory: Memory | undefined;
  let dataDir: string | undefined;
  let missingDiaId = 0;
  const open = async (): Promise<Memory> => {
    if (memory) return memory;
    dataDir = await mkdtemp(join(ctx.tmpDir, `engram-${run}-`));
    memory = new Memory({
      dataDir,
      chroma: { url: chroma.url },
      embeddings,
      clock: () => now,
      prefix: `locomo-engram-${run}`,
      ...options.memoryOptions,
    });
    return memory;
  };
  const lastTime = new Map<string, number>();
  const addLatencies: number[] = [];
  return {
    name: options.name ?? `engram, ${MODEL_LABELS[model]}${options.model || model !== ctx.libraryDefault ? "" : " (defaults)"}`,
    model: ctx.modelIds[model],
    description:
      (options.description ??
        "engram Memory (defaults" +
          (options.memoryOptions ? ` + ${JSON.stringify(options.memoryOptions)}` : "") +
          "): one add per turn as it arrives (thread = session, clock = the turn's time), search(question, { userId, limit: k })") +
      `; model ${ctx.modelIds[model]}${model === ctx.libraryDefault ? " (the default)" : ""}, with its own ranker defaults`,
    addLatencies,
    async ingest(conv, progress) {
      const m = await open();
      let session = -1;
      let position = 0;
      for (const turn of conv.turns) {
        position = turn.session === session ? position + 1 : 0;
        session = turn.session;
        now = turn.date + position * 1_000;
        const start = performance.now();
        await m.add([{ role: "user", content: turnContent(turn) }], {
          userId: conv.sampleId,
          threadId: `session_${turn.session}`,
          metadata: { diaId: turn.diaId },
        });
        addLatencies.push(performance.now() - start);
        progress?.(1);
      }
      // The questions come after the conversation: its writes are stored first (counted in the
      // ingest time), so the rows rank what the store holds, not writes still in the outbox.
      await m.flush();
      lastTime.set(conv.sampleId, now);
    },
    async rank(conv, question, k) {
      const m = await open();
      now = lastTime.get(conv.sampleId) ?? now;
      const hits = await m.search(question.question, { userId: conv.sampleId, limit: k });
      const ids: string[] = [];
      for (const hit of hits) {
        const diaId = hit.metadata?.diaId;
        if (typeof diaId === "string") ids.push(diaId);
        else missingDiaId++;
      }
      return ids;
    },
    async close() {
      if (missingDiaId > 0) process.stderr.write(`WARNING: engram returned ${missingDiaId} records without metadata.diaId\n`);
      const m = memory;
      memory = undefined;
      await m?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
