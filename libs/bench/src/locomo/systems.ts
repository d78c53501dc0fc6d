/**
 * The rows `run.ts` can run, selectable with `--systems`. To add a row (e.g. an engram ablation),
 * append a spec, for example:
 *
 *   { id: "engram-dense", needsChroma: true, group: "ablation",
 *     create: (ctx) => engramRetriever(ctx, { name: "engram (dense only)", memoryOptions: { ranker: { ... } } }) }
 *
 * Rows without a model of their own (bm25 aside) use the library's default model, the one
 * `new Memory()` embeds with (run.ts finds it); `dense-<model>` and `engram-<model>` name theirs.
 */
import { MODEL_LABELS, MODEL_NAMES } from "./embeddings.js";
import {
  bm25Retriever,
  denseRetriever,
  engramRetriever,
  recencyRetriever,
  type Retriever,
  type RetrieverContext,
} from "./retrievers.js";
import { mem0Retriever } from "./mem0_retriever.js";

export interface SystemSpec {
  /** Name on the command line. */
  id: string;
  /** Whether the run must start the Chroma server (and load the embedding model) for it. */
  needsChroma: boolean;
  /** "ablation": an engram variant with a part switched off (its own table in the report). @default "system" */
  group?: "system" | "ablation";
  create(ctx: RetrieverContext): Retriever;
}

export const SYSTEMS: readonly SystemSpec[] = [
  { id: "bm25", needsChroma: false, create: () => bm25Retriever() },
  { id: "recency", needsChroma: false, create: () => recencyRetriever() },
  { id: "dense", needsChroma: true, create: (ctx) => denseRetriever(ctx) },
  { id: "engram", needsChroma: true, create: (ctx) => engramRetriever(ctx) },
  // Each model as an explicit row (issue 13: LoCoMo rows per model), whatever the default is.
  ...MODEL_NAMES.flatMap((model) => [
    { id: `dense-${model}`, needsChroma: true, create: (ctx: RetrieverContext) => denseRetriever(ctx, { model }) },
    {
      id: `engram-${model}`,
      needsChroma: true,
      create: (ctx: RetrieverContext) => engramRetriever(ctx, { model, name: `engram, ${MODEL_LABELS[model]}` }),
    },
  ]),
  // Sanity check: engram ranking by vector similarity alone should match the raw "dense" row.
  {
    id: "engram-dense-only",
    needsChroma: true,
    group: "ablation",
    create: (ctx) =>
      engramRetriever(ctx, {
        name: "engram (vector only)",
        memoryOptions: { ranker: { lexical: 0, recency: 0, importance: 0, neighbour: 0, dates: 0, session: 0 }, writes: "background" },
      }),
  },
  // Ablation: the defaults with one part switched off, to show what each part adds. Ablations write
  // in the background (their add latencies are not reported on the page; recall is the same).
  ...(["lexical", "neighbour", "recency", "importance", "dates", "session"] as const).map((part) => ({
    id: `engram-no-${part}`,
    needsChroma: true,
    group: "ablation" as const,
    create: (ctx: RetrieverContext) =>
      engramRetriever(ctx, { name: `engram without ${part}`, memoryOptions: { ranker: { [part]: 0 }, writes: "background" } }),
  })),
  // Ablation: no entity extraction and no entity boost.
  {
    id: "engram-no-entities",
    needsChroma: true,
    group: "ablation",
    create: (ctx: RetrieverContext) =>
      engramRetriever(ctx, { name: "engram without entities", memoryOptions: { entities: { extract: false, boost: 0 }, writes: "background" } }),
  },
  // USE-Lite's ranker weights before the date and session boosts, for comparison.
  {
    id: "engram-use-lite-weights",
    needsChroma: true,
    group: "ablation",
    create: (ctx: RetrieverContext) =>
      engramRetriever(ctx, {
        name: "engram (USE-Lite's weights: lexical 0.6, neighbour 0.3, no spread)",
        memoryOptions: { ranker: { lexical: 0.6, neighbour: 0.3, spread: 0 }, writes: "background" },
      }),
  },
  // BM25 variants, to check the reference definition (not run by default).
  { id: "bm25-caption", needsChroma: false, create: () => bm25Retriever({ name: "bm25 (+ photo captions)", withCaption: true }) },
  { id: "bm25-nodate", needsChroma: false, create: () => bm25Retriever({ name: "bm25 (no date)", withDate: false }) },
  { id: "bm25-robertson", needsChroma: false, create: () => bm25Retriever({ name: "bm25 (robertson IDF)", idf: "robertson" }) },
  { id: "bm25-okapi", needsChroma: false, create: () => bm25Retriever({ name: "bm25 (rank_bm25 okapi IDF)", idf: "okapi" }) },
  // Peer system: mem0 (npm mem0ai, OSS Memory) offline, the default model's embeddings, infer off.
  { id: "mem0", needsChroma: true, create: (ctx) => mem0Retriever(ctx) },
];

export const DEFAULT_SYSTEMS = ["bm25", "recency", "dense", "engram"];

/** The rows of the full run: every peer, each model, then the ablations. */
export const FULL_SYSTEMS = ["bm25", "dense", "engram", "engram-use-lite", "engram-static", "mem0"];

/** The ablation rows of the full run. */
export const ABLATION_SYSTEMS = [
  "engram-dense-only",
  "engram-no-lexical",
  "engram-no-neighbour",
  "engram-no-recency",
  "engram-no-importance",
  "engram-no-dates",
  "engram-no-session",
  "engram-no-entities",
];
