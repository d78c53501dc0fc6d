/**
 * Store layouts compared by `store_layout.ts`. A layout decides how records of many users are
 * spread over Chroma collections and how one user's records are searched.
 *
 * To add a layout: write a factory returning a {@link StoreLayout} and append it to
 * {@link LAYOUTS}. Only `name`, `setup`, `ingest`, `add` and `search` are required.
 */
import type { ChromaClient, Collection } from "chromadb";
import { chunks, type BenchRecord, type Dataset } from "./data.js";

export interface LayoutContext {
  client: ChromaClient;
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

/** Every layout the benchmark knows, in report order. Add new ones here. */
export const LAYOUTS: readonly LayoutFactory[] = [sharedCollection, collectionPerUser];
