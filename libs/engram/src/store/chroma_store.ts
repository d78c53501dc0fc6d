import type { ChromaClient, Collection } from "chromadb";
import { EngramError } from "../core/errors.js";
import { collectionNameFor } from "../core/scope.js";
import type { MemoryRecord } from "../core/types.js";
import { ChromaCollections, MAX_ROWS_PER_CALL as MAX_BATCH } from "./chroma_collections.js";
import { fromChromaRow, STORED_DOCUMENT, toChromaMetadata } from "./chroma_records.js";
import { upsertRows } from "./chroma_upsert.js";
import { whereFor } from "./chroma_where.js";
import { isNotFound } from "./not_found.js";
import { RevisionLog, type StoreRevision } from "./revision_log.js";
import type { EpisodicStore, StoreFilter, StoreHit, StoredRecord } from "./types.js";

export interface ChromaStoreOptions {
  /** Resolves the client lazily (starting the local server on first use). */
  client: () => Promise<ChromaClient>;
  /** Collection name prefix. @default "engram" */
  prefix?: string;
  /** For messages: where the store is. */
  describe?: () => string;
  /**
   * Called when a request found the server unreachable, before the request is made once more: the
   * connection restarts a local server that died (or waits a moment for one given by URL).
   * @default none: an unreachable server fails the call at once
   */
  recover?: (elapsedMs: number) => Promise<void>;
  /**
   * Told when a collection this store held a handle to is gone (another instance erased the user,
   * or `engram reembed` replaced the user's collections), before the call is made again: a
   * `Memory` checks the server's model marker again then (memory/model_guard.ts).
   * @default none
   */
  stale?: () => void;
  /**
   * Runs before records are written, with the client: a `Memory` records its embedding model on
   * a prefix that has none yet, or is refused (memory/model_guard.ts). Its error fails the write.
   * @default none
   */
  beforeWrite?: (client: ChromaClient) => Promise<void>;
  /**
   * Most collection handles kept, of records and of revision logs each (least recently used leave first; one that left costs a lookup
   * round trip when its user comes back). @default 10_000 (DEFAULT_MAX_HANDLES)
   */
  maxHandles?: number;
}

/**
 * The episodic store over Chroma: one cosine-space collection per user, vectors supplied by the
 * caller (never Chroma's own embedding functions, which would download models). Every write that
 * succeeds then advances the user's revision log (store/revision_log.ts), which other instances
 * sharing the server read to know whether their in-process copy is current.
 */
export class ChromaStore implements EpisodicStore {
  private readonly prefix: string;

  /** The users' collections (shared handling: store/chroma_collections.ts). */
  private readonly collections: ChromaCollections;

  private readonly revisions: RevisionLog;

  constructor(private readonly options: ChromaStoreOptions) {
    this.prefix = options.prefix ?? "engram";
    this.collections = new ChromaCollections({
      client: options.client,
      ...(options.describe ? { describe: options.describe } : {}),
      // Handles made by the old client point to the old port: the revision logs' go too.
      clientChanged: () => this.revisions.forgetHandles(),
      ...(options.maxHandles !== undefined ? { maxHandles: options.maxHandles } : {}),
    });
    this.revisions = new RevisionLog({
      client: () => this.client(),
      prefix: this.prefix,
      call: (operation, run) => this.call(operation, run),
      ...(options.stale ? { stale: options.stale } : {}),
      ...(options.maxHandles !== undefined ? { maxHandles: options.maxHandles } : {}),
    });
  }

  /** The user's revision: it changes after every write of their records by any instance. */
  revision(userId: string): Promise<StoreRevision> {
    return this.healing(() => this.revisions.read(userId, async () => (await this.collection(userId, false)) !== undefined));
  }

  async upsert(userId: string, items: StoredRecord[]): Promise<void> {
    if (items.length === 0) return;
    for (const item of items) {
      if (item.record.scope.userId !== userId) {
        throw new EngramError("INVALID_SCOPE", `Record ${item.record.id} belongs to another user than the one written.`);
      }
    }
    const beforeWrite = this.options.beforeWrite;
    if (beforeWrite) await this.healing(async () => beforeWrite(await this.client()));
    await this.withCollection(userId, true, async (collection) => {
      for (let start = 0; start < items.length; start += MAX_BATCH) {
        const batch = items.slice(start, start + MAX_BATCH);
        const metadatas = batch.map((item) => toChromaMetadata(item.record));
        const removed = await this.staleKeys(collection, batch, metadatas);
        await this.call("upsert", () =>
          upsertRows(collection, {
            ids: batch.map((item) => item.record.id),
            embeddings: batch.map((item) => item.embedding),
            // The text travels in the metadata (store/chroma_records.ts TEXT_KEY).
            documents: batch.map(() => STORED_DOCUMENT),
            metadatas,
            removed,
          }),
        );
      }
    });
    // Its own request, after the records': a server that hangs or dies here is waited for (and
    // restarted) as for the records, or the write would fail after landing (store/chroma_hang.int).
    // A retried entry may count twice: a revision that moved more than expected only rebuilds an index.
    await this.healing(() => this.revisions.append(userId));
  }

  /**
   * Chroma merges an upsert's metadata into the stored row's, so a key the new version no longer
   * has (a removed TTL, a metadata key an update dropped, the dates of a rewritten text) would stay
   * behind: read back, filtered on, and, for `expiresAt`, expiring a memory its user kept. The
   * stored keys of each rewritten row that its new metadata lacks are returned (by index in the
   * batch), and the upsert removes them in the same call that writes the rest (chroma_upsert.ts).
   * It does not delete the row first: between a delete and the upsert, a reader in another process
   * found neither version, and a process killed there left an update whose record was gone, which
   * its replay (an update applies only over a stored record) dropped with the memory
   * (memory/update_window.int.test.ts). Only rewritten records (updatedAt after createdAt) are
   * read (and records marked `replaces`): an add's new id has no row.
   */
  private async staleKeys(collection: Collection, batch: StoredRecord[], metadatas: Record<string, unknown>[]): Promise<Array<string[] | undefined>> {
    const removed: Array<string[] | undefined> = batch.map(() => undefined);
    const rewritten = batch.flatMap((item, i) => (item.replaces || item.record.updatedAt !== item.record.createdAt ? [i] : []));
    if (rewritten.length === 0) return removed;
    const ids = rewritten.map((i) => batch[i]!.record.id);
    const stored = await this.call("get", () => collection.get({ ids, include: ["metadatas"] as never }));
    const index = new Map(rewritten.map((i) => [batch[i]!.record.id, i]));
    stored.ids.forEach((id, row) => {
      const i = index.get(id);
      const before = stored.metadatas[row];
      if (i === undefined || before == null) return;
      const next = metadatas[i]!;
      // A key whose new value is empty is left out of the upsert (as the client does): it goes too.
      const gone = Object.keys(before).filter((key) => next[key] === undefined || next[key] === null);
      if (gone.length > 0) removed[i] = gone;
    });
    return removed;
  }

  async query(userId: string, vector: number[], k: number, filter?: StoreFilter): Promise<StoreHit[]> {
    if (k <= 0) return [];
    const result = await this.withCollection(userId, false, (collection) =>
      this.call("query", () =>
        collection.query({
          queryEmbeddings: [vector],
          nResults: k,
          where: whereFor(userId, filter),
          include: ["documents", "metadatas", "distances"] as never,
        }),
      ),
    );
    if (!result) return [];
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
    const include = options.embeddings ? ["documents", "metadatas", "embeddings"] : ["documents", "metadatas"];
    const result = await this.withCollection(userId, false, (collection) =>
      this.call("get", () => collection.get({ ids, where: whereFor(userId, options.filter), include: include as never })),
    );
    if (!result) return [];
    return result.ids.flatMap((id, i) => {
      const record = fromChromaRow(id, result.documents[i] ?? null, result.metadatas[i] ?? null);
      if (record.scope.userId !== userId) return [];
      const hit: StoreHit = { record, distance: 0 };
      if (options.embeddings) hit.embedding = Array.from(result.embeddings[i] ?? []);
      return [hit];
    });
  }

  async list(userId: string, filter?: StoreFilter): Promise<MemoryRecord[]> {
    const result = await this.withCollection(userId, false, (collection) =>
      this.call("get", () => collection.get({ where: whereFor(userId, filter), include: ["documents", "metadatas"] as never })),
    );
    if (!result) return [];
    return result.ids
      .map((id, i) => fromChromaRow(id, result.documents[i] ?? null, result.metadatas[i] ?? null))
      .filter((record) => record.scope.userId === userId)
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  }

  async scan(userId: string): Promise<StoredRecord[]> {
    return (await this.withCollection(userId, false, (collection) => this.scanAll(userId, collection))) ?? [];
  }

  private async scanAll(userId: string, collection: Collection): Promise<StoredRecord[]> {
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
    await this.withCollection(userId, false, async (collection) => {
      for (let start = 0; start < ids.length; start += MAX_BATCH) {
        const batch = ids.slice(start, start + MAX_BATCH);
        await this.call("delete", () => collection.delete({ ids: batch, where: whereFor(userId) }));
      }
    });
    // Also when the user had no collection: every write call that succeeds advances the revision
    // by one (memory/gated_store.ts counts on it; once more after a retry only rebuilds an index).
    await this.healing(() => this.revisions.append(userId));
  }

  async deleteUser(userId: string): Promise<number> {
    const count =
      (await this.withCollection(userId, false, async (collection) => {
        const count = await this.call("count", () => collection.count());
        const client = await this.client();
        await this.call("deleteCollection", () => client.deleteCollection({ name: collection.name }));
        return count;
      })) ?? 0;
    this.collections.forget(collectionNameFor(this.prefix, userId));
    // After the records, as every write: a reader that finds the log gone (or made anew) rebuilds
    // and finds the records gone too.
    await this.healing(() => this.revisions.erase(userId));
    return count;
  }

  async count(userId: string): Promise<number> {
    return (await this.withCollection(userId, false, (collection) => this.call("count", () => collection.count()))) ?? 0;
  }

  async close(): Promise<void> {
    this.collections.forget();
    this.revisions.forgetHandles();
  }

  /**
   * Runs `run` on the user's collection (undefined without one, unless `create`). A handle to a
   * collection another process deleted (its deleteAll) fails with "not found": the handle is
   * dropped and the call made once more on the collection that now has the name, if any.
   */
  private async withCollection<T>(
    userId: string,
    create: boolean,
    run: (collection: Collection) => Promise<T>,
  ): Promise<T | undefined> {
    return this.healing(async () => {
      for (let attempt = 0; ; attempt += 1) {
        const collection = create ? await this.collection(userId, true) : await this.collection(userId, false);
        if (!collection) return undefined;
        try {
          return await run(collection);
        } catch (error) {
          if (attempt > 0 || !isNotFound(error)) throw error;
          this.collections.forget(collectionNameFor(this.prefix, userId));
          this.options.stale?.();
        }
      }
    });
  }

  /**
   * Runs `run`; if the server was unreachable, lets the connection recover (a local server that
   * died is restarted) and runs it once more. Every call here is idempotent or a read: an upsert
   * by id, a delete by id, a query.
   */
  private healing<T>(run: () => Promise<T>): Promise<T> {
    return this.collections.healing(run, this.options.recover);
  }

  private client(): Promise<ChromaClient> {
    return this.collections.client();
  }

  private async collection(userId: string, create: true): Promise<Collection>;
  private async collection(userId: string, create: false): Promise<Collection | undefined>;
  private async collection(userId: string, create: boolean): Promise<Collection | undefined> {
    const name = collectionNameFor(this.prefix, userId);
    return create ? this.collections.findOrCreate(name, { engram: 1 }) : this.collections.find(name);
  }

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return this.collections.call(operation, run);
  }
}
