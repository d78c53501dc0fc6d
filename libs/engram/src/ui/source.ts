/** What the inspector reads and changes: the app's Memory, its store, and its shared state. */
import { join } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { ChromaNotFoundError } from "chromadb";
import type { MemoryRecord } from "../core/types.js";
import { collectionNameFor } from "../core/scope.js";
import { Memory } from "../memory/memory.js";
import { ChromaCollections } from "../store/chroma_collections.js";
import { ChromaStore } from "../store/chroma_store.js";
import { ChromaConnection, type ChromaConnectionOptions } from "../store/connection.js";
import { collectionsStartingWith } from "../store/list_collections.js";
import { sameRevision, type StoreRevision } from "../store/revision_log.js";
import { openState, type OpenedState, type StateOption } from "../state/open.js";

/** Where the inspector reads: the same data folder and Chroma an app's `Memory` uses. */
export interface InspectorSourceOptions {
  /** The app's data folder (engram.sqlite: history and token usage). */
  dataDir: string;
  /** The app's shared state, as for `Memory`. @default SQLite in the data folder */
  state?: StateOption;
  /** A running Chroma server; without it, the local server of the data folder (started if needed). */
  chromaUrl?: string;
  /** Collection prefix of the app's `Memory`. @default "engram" */
  prefix?: string;
  /** The embeddings of the app's `Memory` (search and edits embed with them). @default Memory's default */
  embeddings?: EmbeddingsInterface;
  /** @default Date.now */
  clock?: () => number;
}

/** One row of the users page. */
export interface UserSummary {
  userId: string;
  memories: number;
  /** Latest write that reached the store (history) or model call (usage), ms since epoch; 0 when unknown. */
  lastActivity: number;
}

/**
 * What the inspector reads and changes. Changes and search go through a `Memory` on the app's data
 * folder, so history, the outbox and the recall indexes stay right; the list views read the store
 * directly (a page of a 100,000-record user must not go through `getAll`'s limit), caching each
 * user's records until the user's store revision (store/revision_log.ts) moves.
 */
export class InspectorSource {
  readonly memory: Memory;

  private readonly connection: ChromaConnection;

  private readonly store: ChromaStore;

  /** Store calls made here, not through `store`: for its driver errors as `EngramError`s. */
  private readonly calls: ChromaCollections;

  private readonly prefix: string;

  private readonly dataDir: string;

  /** The state the activity column reads (history and usage): the app's, opened on its own. */
  private readonly state: OpenedState;

  /** The last users listed, with their cached records (at most a few users' records are kept). */
  private readonly cache = new Map<string, { revision: StoreRevision; records: MemoryRecord[] }>();

  constructor(options: InspectorSourceOptions) {
    this.prefix = options.prefix ?? "engram";
    this.dataDir = options.dataDir;
    const chroma: ChromaConnectionOptions = options.chromaUrl === undefined ? {} : { url: options.chromaUrl };
    this.state = openState(options.state, { dataDir: options.dataDir });
    this.memory = new Memory({
      dataDir: options.dataDir,
      ...(options.state === undefined ? {} : { state: options.state }),
      prefix: this.prefix,
      chroma,
      writes: "sync", // an edit shows on the next page load
      ...(options.embeddings ? { embeddings: options.embeddings } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    // A second handle on the same server: the local server of a data folder is shared, not restarted.
    this.connection = new ChromaConnection(chroma, join(options.dataDir, "chroma"));
    this.store = new ChromaStore({ client: () => this.connection.client(), prefix: this.prefix, describe: () => this.connection.describe() });
    this.calls = new ChromaCollections({ client: () => this.connection.client(), describe: () => this.connection.describe() });
  }

  /**
   * Every user with memories in the store (one collection each), most recently active first. Its
   * store calls go through the store's error handling: an outage is STORE_UNAVAILABLE (a 503, as
   * on every other page), not an unexpected failure (a 500 with a stack in the terminal).
   */
  async users(): Promise<UserSummary[]> {
    const activity = await this.activity();
    return this.calls.call("list users", () => this.listUsers(activity));
  }

  private async listUsers(activity: ReadonlyMap<string, number>): Promise<UserSummary[]> {
    const client = await this.connection.client();
    const collections = [];
    for await (const collection of collectionsStartingWith(client, `${this.prefix}-u-`, 100)) collections.push(collection);
    const users = await Promise.all(
      collections.map(async (collection): Promise<UserSummary | undefined> => {
        try {
          const [first] = (await collection.get({ limit: 1, include: ["metadatas"] as never })).metadatas;
          const userId = first?.userId;
          // An empty collection, or one that is not a user's (its name would not hash back to it).
          if (typeof userId !== "string" || collectionNameFor(this.prefix, userId) !== collection.name) return undefined;
          return { userId, memories: await collection.count(), lastActivity: activity.get(userId) ?? 0 };
        } catch (error) {
          // Erased (its collection deleted) since the listing: a user no more, not a failed page.
          if (error instanceof ChromaNotFoundError) return undefined;
          throw error;
        }
      }),
    );
    return users
      .filter((user): user is UserSummary => user !== undefined)
      .sort((a, b) => b.lastActivity - a.lastActivity || a.userId.localeCompare(b.userId));
  }

  /** The user's records, newest first (expired ones included: an inspector shows everything stored). */
  async records(userId: string): Promise<MemoryRecord[]> {
    // The store's revision, read before the records (as recall builds its index): it moves after
    // every acknowledged write by any instance sharing the server, also one on another data folder
    // whose history this folder never sees (docs/recall.md, "Consistency across processes").
    const revision = await this.store.revision(userId);
    const cached = this.cache.get(userId);
    if (cached && sameRevision(cached.revision, revision)) return cached.records;
    const records = await this.store.list(userId);
    this.cache.delete(userId);
    // "No log" recurs (before the first write, after an erase), so it never keys a cache entry.
    if (revision.log === null) return records;
    this.cache.set(userId, { revision, records });
    // A few users' records at most: the rest are read again when looked at.
    while (this.cache.size > 4) this.cache.delete(this.cache.keys().next().value!);
    return records;
  }

  /** One record of the user, expired or not; null for unknown ids and other users' ids. */
  async record(userId: string, id: string): Promise<MemoryRecord | null> {
    const [hit] = await this.store.get(userId, [id]);
    return hit?.record ?? null;
  }

  async close(): Promise<void> {
    await this.memory.close();
    await this.store.close();
    await this.connection.close();
    if (this.state.owned) await this.state.state.close();
  }

  /** Latest write per user from the history log and latest model call from the usage totals. */
  private async activity(): Promise<Map<string, number>> {
    const latest = new Map<string, number>();
    const { state } = this.state;
    await state.setup();
    const rows = [
      ...(await state.history.latest()),
      ...(await state.usage.totals({})).map((row) => ({ userId: row.userId, at: row.lastAt })),
    ];
    for (const row of rows) latest.set(row.userId, Math.max(latest.get(row.userId) ?? 0, row.at));
    return latest;
  }
}
