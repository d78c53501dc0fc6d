import { ChromaConnectionError, ChromaNotFoundError, type ChromaClient, type Collection } from "chromadb";
import { EngramError } from "../core/errors.js";
import { collectionNameFor } from "../core/scope.js";
import type { MemoryRecord } from "../core/types.js";
import { fromChromaRow, toChromaMetadata } from "./chroma_records.js";
import { whereFor } from "./chroma_where.js";
import type { EpisodicStore, StoreFilter, StoreHit, StoredRecord } from "./types.js";

/** Chroma's server refuses batches larger than this (its pre-flight check). */
const MAX_BATCH = 5_000;

export interface ChromaStoreOptions {
  /** Resolves the client lazily (starting the local server on first use). */
  client: () => Promise<ChromaClient>;
  /** Collection name prefix. @default "engram" */
  prefix?: string;
  /** For messages: where the store is. */
  describe?: () => string;
}

/**
 * The episodic store over Chroma: one cosine-space collection per user, vectors supplied by the
 * caller (never Chroma's own embedding functions, which would download models).
 */
export class ChromaStore implements EpisodicStore {
  private readonly prefix: string;

  /** Collections known to exist, by user. Missing ones are not cached: another process may create them. */
  private readonly collections = new Map<string, Promise<Collection>>();

  constructor(private readonly options: ChromaStoreOptions) {
    this.prefix = options.prefix ?? "engram";
  }

  async upsert(userId: string, items: StoredRecord[]): Promise<void> {
    if (items.length === 0) return;
    for (const item of items) {
      if (item.record.scope.userId !== userId) {
        throw new EngramError("INVALID_SCOPE", `Record ${item.record.id} belongs to another user than the one written.`);
      }
    }
    const collection = await this.collection(userId, true);
    for (let start = 0; start < items.length; start += MAX_BATCH) {
      const batch = items.slice(start, start + MAX_BATCH);
      await this.call("upsert", () =>
        collection!.upsert({
          ids: batch.map((item) => item.record.id),
          embeddings: batch.map((item) => item.embedding),
          documents: batch.map((item) => item.record.content),
          metadatas: batch.map((item) => toChromaMetadata(item.record)),
        }),
      );
    }
  }

  async query(userId: string, vector: number[], k: number, filter?: StoreFilter): Promise<StoreHit[]> {
    const collection = await this.collection(userId, false);
    if (!collection || k <= 0) return [];
    const result = await this.call("query", () =>
      collection.query({
        queryEmbeddings: [vector],
        nResults: k,
        where: whereFor(userId, filter),
        include: ["documents", "metadatas", "distances"] as never,
      }),
    );
    const ids = result.ids[0] ?? [];
    const hits: StoreHit[] = [];
    ids.forEach((id, i) => {
      const record = fromChromaRow(id, result.documents[0]?.[i] ?? null, result.metadatas[0]?.[i] ?? null);
      if (record.scope.userId === userId) hits.push({ record, distance: result.distances[0]?.[i] ?? 2 });
    });
    return hits;
  }

  async get(userId: string, ids: string[], options: { embeddings?: boolean; filter?: StoreFilter } = {}): Promise<StoreHit[]> {
    if (ids.length === 0) return [];
    const collection = await this.collection(userId, false);
    if (!collection) return [];
    const include = options.embeddings ? ["documents", "metadatas", "embeddings"] : ["documents", "metadatas"];
    const result = await this.call("get", () =>
      collection.get({ ids, where: whereFor(userId, options.filter), include: include as never }),
    );
    return result.ids.flatMap((id, i) => {
      const record = fromChromaRow(id, result.documents[i] ?? null, result.metadatas[i] ?? null);
      if (record.scope.userId !== userId) return [];
      const hit: StoreHit = { record, distance: 0 };
      if (options.embeddings) hit.embedding = Array.from(result.embeddings[i] ?? []);
      return [hit];
    });
  }

  async list(userId: string, filter?: StoreFilter): Promise<MemoryRecord[]> {
    const collection = await this.collection(userId, false);
    if (!collection) return [];
    const result = await this.call("get", () =>
      collection.get({ where: whereFor(userId, filter), include: ["documents", "metadatas"] as never }),
    );
    return result.ids
      .map((id, i) => fromChromaRow(id, result.documents[i] ?? null, result.metadatas[i] ?? null))
      .filter((record) => record.scope.userId === userId)
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  }

  async scan(userId: string): Promise<StoredRecord[]> {
    const collection = await this.collection(userId, false);
    if (!collection) return [];
    const items: StoredRecord[] = [];
    // Paged: one user's vectors can exceed what one HTTP response should carry.
    for (let offset = 0; ; offset += MAX_BATCH) {
      const result = await this.call("get", () =>
        collection.get({
          where: whereFor(userId),
          limit: MAX_BATCH,
          offset,
          include: ["documents", "metadatas", "embeddings"] as never,
        }),
      );
      result.ids.forEach((id, i) => {
        const record = fromChromaRow(id, result.documents[i] ?? null, result.metadatas[i] ?? null);
        if (record.scope.userId === userId) items.push({ record, embedding: Array.from(result.embeddings[i] ?? []) });
      });
      if (result.ids.length < MAX_BATCH) return items;
    }
  }

  async delete(userId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const collection = await this.collection(userId, false);
    if (!collection) return;
    for (let start = 0; start < ids.length; start += MAX_BATCH) {
      const batch = ids.slice(start, start + MAX_BATCH);
      await this.call("delete", () => collection.delete({ ids: batch, where: whereFor(userId) }));
    }
  }

  async deleteUser(userId: string): Promise<number> {
    const collection = await this.collection(userId, false);
    if (!collection) return 0;
    const count = await this.call("count", () => collection.count());
    const client = await this.client();
    await this.call("deleteCollection", () => client.deleteCollection({ name: collection.name }));
    this.collections.delete(userId);
    return count;
  }

  async count(userId: string): Promise<number> {
    const collection = await this.collection(userId, false);
    if (!collection) return 0;
    return this.call("count", () => collection.count());
  }

  async close(): Promise<void> {
    this.collections.clear();
  }

  private async client(): Promise<ChromaClient> {
    try {
      return await this.options.client();
    } catch (error) {
      if (error instanceof EngramError) throw error;
      throw this.wrap("connect", error);
    }
  }

  private async collection(userId: string, create: true): Promise<Collection>;
  private async collection(userId: string, create: false): Promise<Collection | undefined>;
  private async collection(userId: string, create: boolean): Promise<Collection | undefined> {
    const cached = this.collections.get(userId);
    if (cached) return cached;
    const client = await this.client();
    const name = collectionNameFor(this.prefix, userId);
    if (!create) {
      try {
        const found = await client.getCollection({ name });
        this.collections.set(userId, Promise.resolve(found));
        return found;
      } catch (error) {
        if (error instanceof ChromaNotFoundError || /does not exist|not found/i.test(String(error))) return undefined;
        throw this.wrap("getCollection", error);
      }
    }
    const pending = client
      .getOrCreateCollection({ name, embeddingFunction: null, metadata: { "hnsw:space": "cosine", engram: 1 } })
      .catch((error: unknown) => {
        this.collections.delete(userId);
        throw this.wrap("createCollection", error);
      });
    this.collections.set(userId, pending);
    return pending;
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      // A collection deleted by another process (deleteAll elsewhere): forget the stale handle.
      if (error instanceof ChromaNotFoundError) this.collections.clear();
      throw this.wrap(operation, error);
    }
  }

  private wrap(operation: string, error: unknown): EngramError {
    if (error instanceof EngramError) return error;
    const where = this.options.describe?.() ?? "Chroma";
    if (isUnavailable(error)) {
      return new EngramError("STORE_UNAVAILABLE", `${where} is unreachable (${operation}).`, { cause: error });
    }
    return new EngramError("STORE_ERROR", `${where} failed on ${operation}: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof ChromaConnectionError) return true;
  const text = `${(error as Error)?.message ?? ""} ${String((error as { cause?: unknown })?.cause ?? "")}`;
  return /ECONNREFUSED|ECONNRESET|fetch failed|socket hang up|Failed to connect|ETIMEDOUT|EHOSTUNREACH/i.test(text);
}
