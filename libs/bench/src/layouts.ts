/**
 * Store layouts compared by `store_layout.ts`. A layout decides how records of many users are
 * spread over Chroma collections and how one user's records are searched.
 *
 * To add a layout: write a factory returning a {@link StoreLayout} and append it to
 * {@link LAYOUTS}. Only `name`, `setup`, `ingest`, `add` and `search` are required.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { ChromaClient, Collection } from "chromadb";
import { DEFAULT_RANKER, Memory } from "engram";
import { chunks, type BenchRecord, type Dataset } from "./data.js";

export interface LayoutContext {
  client: ChromaClient;
  /** The server's URL (e.g. `http://127.0.0.1:40123`), for layouts that open their own client. */
  url: string;
  /** Unique per run and size: prefix collection names with it. */
  prefix: string;
  /** Records per `add` call when bulk loading (Chroma rejects more than 5461). */
  batchSize: number;
}

export interface StoreLayout {
  /** Short id used in tables and on the command line, e.g. `shared`. */
  readonly name: string;
  /** One line for the report. */
  readonly description: string;
  /** Creates what the layout needs (collections, handles). Untimed. */
  setup(ctx: LayoutContext): Promise<void>;
  /** Bulk-loads the dataset; call `progress(n)` after each `n` records stored. Timed as a whole. */
  ingest(data: Dataset, progress: (stored: number) => void): Promise<void>;
  /** Stores one record. Timed per call. */
  add(userId: string, record: BenchRecord): Promise<void>;
  /** The `k` nearest records of `userId` to `vector`, best first, as ids. Timed per call. */
  search(userId: string, vector: number[], k: number): Promise<string[]>;
  /**
   * Extra searches to measure on this layout, by label (e.g. the unfiltered floor). Each takes a
   * query vector and k, and is timed like `search`.
   */
  readonly probes?: Readonly<Record<string, (vector: number[], k: number) => Promise<string[]>>>;
  /**
   * Untimed, after ingest and before the searches: one-time work a long-running application does
   * once per process (e.g. building in-process indexes). May return labelled latency samples (ms)
   * of that work, reported as extra rows (e.g. the cost of a user's first search).
   */
  prepare?(data: Dataset, k: number): Promise<Record<string, number[]>>;
  /** Lines for the report's notes when this layout ran (what its figures include). */
  readonly notes?: readonly string[];
  /**
   * Waits until every write acknowledged so far has reached Chroma (a layout whose `add` returns
   * before that, like Engram's background writes). Timed once, after the timed adds.
   */
  settle?(): Promise<void>;
  /** Number of records stored (sanity check after ingest). */
  count?(): Promise<number>;
  /** Drops what `setup` and the measurements created. */
  teardown?(): Promise<void>;
}

export type LayoutFactory = () => StoreLayout;

/** Collection settings used by every layout: own vectors (no embedding function), cosine space. */
export const COLLECTION_OPTIONS = {
  embeddingFunction: null,
  metadata: { "hnsw:space": "cosine" },
} as const;

const INCLUDE_DISTANCES: ["distances"] = ["distances"];

/** (a) One collection for everyone; every record carries `{ userId }`; searches filter on it. */
export const sharedCollection: LayoutFactory = () => {
  let client: ChromaClient;
  let collection: Collection;
  let batchSize = 5000;
  return {
    name: "shared",
    description: "one shared collection, metadata { userId }, queries use where: { userId }",
    async setup(ctx) {
      client = ctx.client;
      batchSize = ctx.batchSize;
      collection = await client.createCollection({ name: `${ctx.prefix}-shared`, ...COLLECTION_OPTIONS });
    },
    async ingest(data, progress) {
      for (let start = 0; start < data.size; start += batchSize) {
        const end = Math.min(start + batchSize, data.size);
        const records: BenchRecord[] = [];
        for (let i = start; i < end; i++) records.push(data.record(i));
        await collection.add({
          ids: records.map((r) => r.id),
          embeddings: records.map((r) => r.vector),
          metadatas: records.map((r) => ({ userId: r.userId })),
        });
        progress(records.length);
      }
    },
    async add(userId, record) {
      await collection.add({ ids: [record.id], embeddings: [record.vector], metadatas: [{ userId }] });
    },
    async search(userId, vector, k) {
      const result = await collection.query({
        queryEmbeddings: [vector],
        nResults: k,
        where: { userId },
        include: INCLUDE_DISTANCES,
      });
      return result.ids[0] ?? [];
    },
    probes: {
      "floor: shared, no filter": async (vector, k) => {
        const result = await collection.query({ queryEmbeddings: [vector], nResults: k, include: INCLUDE_DISTANCES });
        return result.ids[0] ?? [];
      },
    },
    count: () => collection.count(),
    async teardown() {
      await client.deleteCollection({ name: collection.name });
    },
  };
};

/** A valid Chroma collection name for a user (3-512 chars of `[A-Za-z0-9._-]`, alphanumeric ends). */
export function userCollectionName(prefix: string, userId: string): string {
  const safe = userId.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${prefix}-u-${safe}-c`.slice(0, 512);
}

/** (b) One collection per user, named after the user id; searches need no filter. */
export const collectionPerUser: LayoutFactory = () => {
  let client: ChromaClient;
  let prefix = "";
  let batchSize = 5000;
  const collections = new Map<string, Collection>();
  // Handles are cached, as an application would: a lookup per call would add a round trip.
  const collectionOf = async (userId: string): Promise<Collection> => {
    let collection = collections.get(userId);
    if (!collection) {
      collection = await client.getOrCreateCollection({
        name: userCollectionName(prefix, userId),
        ...COLLECTION_OPTIONS,
      });
      collections.set(userId, collection);
    }
    return collection;
  };
  return {
    name: "per-user",
    description: "one collection per user (name from the user id), queries with no filter",
    async setup(ctx) {
      client = ctx.client;
      prefix = ctx.prefix;
      batchSize = ctx.batchSize;
      collections.clear();
    },
    async ingest(data, progress) {
      for (const userId of data.users) {
        const collection = await collectionOf(userId); // creating collections is part of ingest
        for (const indices of chunks(data.indicesOf(userId), batchSize)) {
          const records = indices.map((i) => data.record(i));
          await collection.add({ ids: records.map((r) => r.id), embeddings: records.map((r) => r.vector) });
          progress(records.length);
        }
      }
    },
    async add(userId, record) {
      const collection = await collectionOf(userId);
      await collection.add({ ids: [record.id], embeddings: [record.vector] });
    },
    async search(userId, vector, k) {
      const collection = await collectionOf(userId);
      const result = await collection.query({ queryEmbeddings: [vector], nResults: k, include: INCLUDE_DISTANCES });
      return result.ids[0] ?? [];
    },
    async count() {
      let total = 0;
      for (const collection of collections.values()) total += await collection.count();
      return total;
    },
    async teardown() {
      for (const collection of collections.values()) await client.deleteCollection({ name: collection.name });
      collections.clear();
    },
  };
};

/**
 * Serves precomputed vectors by text: Engram's embedding step without a model. Implements
 * LangChain's `EmbeddingsInterface` (`embedDocuments`, `embedQuery`) structurally. Dataset records
 * are looked up by text to their index (vectors are materialised on demand from the dataset's
 * Float32Array: 100k × 512 JS arrays would take ~400 MB); queries and added records are registered
 * by text just before the call that embeds them.
 */
export class PrecomputedEmbeddings {
  private readonly extra = new Map<string, number[]>();

  constructor(private readonly lookup: (text: string) => number[] | undefined) {}

  /** Registers the vector of a text that is not a dataset record (a query, an added record). */
  register(text: string, vector: number[]): void {
    this.extra.set(text, vector);
  }

  forget(text: string): void {
    this.extra.delete(text);
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.vectorOf(text));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.vectorOf(text);
  }

  private vectorOf(text: string): number[] {
    const vector = this.extra.get(text) ?? this.lookup(text);
    if (!vector) throw new Error(`no precomputed vector for ${JSON.stringify(text)}`);
    return vector;
  }
}

/** A counter as lowercase letters (a, b, ..., z, ba, ...): unique words that no record contains. */
function letters(n: number): string {
  let out = "";
  do {
    out = String.fromCharCode(97 + (n % 26)) + out;
    n = Math.floor(n / 26);
  } while (n > 0);
  return out;
}

/**
 * (c) Engram's own path: the public `Memory` API over the same server, with the dataset's vectors
 * served by {@link PrecomputedEmbeddings} (no model). Each record's text is unique
 * (`record <i> of <userId>`), so its vector, and the dataset id of a search hit, are found from the
 * text. Memory keeps one collection per user (named from a hash of the user id) and writes through
 * its SQLite outbox + history log in a temporary data folder.
 */
function engramLayout(writes: "sync" | "background"): LayoutFactory {
  return () => engramMemoryLayout(writes);
}

function engramMemoryLayout(writes: "sync" | "background"): StoreLayout {
  const name = writes === "sync" ? "engram" : "engram-background";
  let client: ChromaClient;
  let memory: Memory | undefined;
  let dataDir: string | undefined;
  let prefix = "";
  let batchSize = 5000;
  let dataset: Dataset | undefined;
  let queries = 0;
  let probes = 0;
  /** Dataset record text → index. */
  const recordIndex = new Map<string, number>();
  /** Text → bench id of records added by `add` (not in the dataset). */
  const addedIds = new Map<string, string>();
  /**
   * Text → vector of records added by `add`, kept for the layout's life: with background writes
   * the drain embeds them after `add` has returned (a few hundred vectors at most).
   */
  const addedVectors = new Map<string, number[]>();
  const embeddings = new PrecomputedEmbeddings((text) => {
    const added = addedVectors.get(text);
    if (added) return added;
    const i = recordIndex.get(text);
    return i === undefined || !dataset ? undefined : dataset.record(i).vector;
  });
  const recordText = (i: number, userId: string) => `record ${i} of ${userId}`;
  /** One conversation thread per user, so the ranker's neighbour context has turns to look at. */
  const threadOf = (userId: string) => `thread-${userId}`;
  const mem = (): Memory => {
    if (!memory) throw new Error("engram layout: setup() was not called");
    return memory;
  };
  const idOf = (content: string): string =>
    addedIds.get(content) ?? (recordIndex.has(content) ? dataset!.idOf(recordIndex.get(content)!) : `unknown:${content}`);
  /** Query text: shares the user-id words with every record of the user (see notes). */
  const search = async (userId: string, vector: number[], k: number, text = `query ${queries++} of ${userId}`) => {
    embeddings.register(text, vector);
    try {
      const hits = await mem().search(text, { userId, limit: k });
      return hits.map((hit) => idOf(hit.content));
    } finally {
      embeddings.forget(text);
    }
  };
  const ownCollections = async (): Promise<Collection[]> => {
    const out: Collection[] = [];
    for (let offset = 0; ; offset += 100) {
      const page = await client.listCollections({ limit: 100, offset });
      out.push(...page.filter((c) => c.name.startsWith(`${prefix}-u-`)));
      if (page.length < 100) return out;
    }
  };
  return {
    name,
    description:
      `engram Memory (public API, defaults${writes === "sync" ? ' but writes: "sync"' : ""}): one collection per user, SQLite outbox + history, hybrid recall ` +
      `(exact vector top-${DEFAULT_RANKER.candidates} in process + BM25 + neighbour context + ranker); precomputed vectors, no model`,
    notes:
      writes === "sync"
        ? [
            `engram: \`new Memory({ dataDir: <temp>, chroma: { url }, embeddings, prefix, writes: "sync" })\` on the same server; \`embeddings\` returns the dataset's precomputed vectors looked up by text (no model), so its figures are Engram's overhead over raw Chroma: validation, the SQLite outbox + history log, documents and metadata stored with each vector, and hybrid recall (exact cosine top-${DEFAULT_RANKER.candidates} over the user's vectors kept in process, BM25, neighbour context, ranker).`,
            "engram ingest: one `add([{ role: \"user\", content }...], { userId, threadId })` per user and batch (one record per message, same batch size as per-user; Memory then upserts in groups of 256, the outbox page); each record's text is `record <i> of <userId>`. Timed add: one `add(text, { userId, threadId })`, returning once Chroma has the record. Search: `search(text, { userId, limit: k })`.",
            `engram search: one store round trip (the user's count, which tells whether another process wrote); the vector scan, BM25 and ranking run in process over the user's records and vectors. Query texts (\`query <n> of <userId>\`) share the user-id words with every record of the user, so BM25 always returns its ${DEFAULT_RANKER.candidates} candidates: the path of real text queries. The \`search, query text sharing no word\` row has no BM25 candidate.`,
            "engram first search: a user's first search in a process loads the user's records and vectors from the store (paged get with embeddings) to build the in-process index. It is done once per user, untimed, after ingest (the `first search per user` row: p50/p95 over the users), so the timed searches measure the steady state of a long-running process.",
          ]
        : [
            'engram-background: the same with `writes: "background"` (Memory\'s default): `add` returns once the write is durable in the SQLite outbox; the drain to Chroma runs right after, off the caller\'s path (and overlaps the next timed adds, as on a busy agent). Searches replay the user\'s pending writes first.',
            "engram-background drain: the timed adds' vectors stay served until the drain has embedded them, so every add reaches Chroma (the run fails on any ENGRAM_* warning, and on a record count short of ingest plus adds). `drain after adds` is the wall time of `flush()` after the last timed add (what was still queued), and `adds + drain per add` the wall time from the first timed add to that flush's end divided by the adds: the add's cost with its drain included.",
          ],
    async setup(ctx) {
      client = ctx.client;
      batchSize = ctx.batchSize;
      prefix = `${ctx.prefix}-${name}`;
      dataDir = await mkdtemp(join(tmpdir(), "engram-bench-memory-"));
      memory = new Memory({ dataDir, chroma: { url: ctx.url }, embeddings, prefix, writes });
    },
    async ingest(data, progress) {
      dataset = data;
      recordIndex.clear();
      for (let i = 0; i < data.size; i++) recordIndex.set(recordText(i, data.userOfIndex(i)), i);
      for (const userId of data.users) {
        for (const indices of chunks(data.indicesOf(userId), batchSize)) {
          const messages = indices.map((i) => ({ role: "user", content: recordText(i, userId) }));
          await mem().add(messages, { userId, threadId: threadOf(userId) });
          progress(messages.length);
        }
      }
      await mem().flush();
    },
    async prepare(data, k) {
      const samples: number[] = [];
      for (const userId of data.users) {
        const first = data.indicesOf(userId)[0];
        const vector = first === undefined ? new Array<number>(data.dim).fill(0) : data.record(first).vector;
        const t0 = performance.now();
        await search(userId, vector, k, `first query of ${userId}`);
        samples.push(performance.now() - t0);
      }
      return { [`${name}: first search per user (loads records and vectors)`]: samples };
    },
    async add(userId, record) {
      const text = `added ${record.id} of ${userId}`;
      addedVectors.set(text, record.vector);
      addedIds.set(text, record.id);
      await mem().add(text, { userId, threadId: threadOf(userId) });
    },
    async settle() {
      await mem().flush();
    },
    search: (userId, vector, k) => search(userId, vector, k),
    probes: {
      // Users in turn (probes get no user); a text with no word of any record: BM25 finds nothing,
      // so no lexical-only candidate is fetched: the cheapest path of a Memory search.
      [`${name}: search, query text sharing no word`]: (vector, k) => {
        const userId = dataset!.users[probes++ % dataset!.users.length]!;
        return search(userId, vector, k, `unmatched probe ${letters(probes)}`);
      },
    },
    async count() {
      let total = 0;
      for (const collection of await ownCollections()) total += await collection.count();
      return total;
    },
    async teardown() {
      try {
        await memory?.close();
      } finally {
        memory = undefined;
        for (const collection of await ownCollections()) await client.deleteCollection({ name: collection.name });
        if (dataDir) await rm(dataDir, { recursive: true, force: true });
        dataDir = undefined;
        recordIndex.clear();
        addedIds.clear();
        addedVectors.clear();
        dataset = undefined;
      }
    },
  };
}

/** Every layout the benchmark knows, in report order. Add new ones here. */
export const LAYOUTS: readonly LayoutFactory[] = [sharedCollection, collectionPerUser, engramLayout("sync"), engramLayout("background")];
