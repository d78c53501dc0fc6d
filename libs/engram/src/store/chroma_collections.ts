import { ChromaConnectionError, ChromaNotFoundError, type ChromaClient, type Collection, type Metadata } from "chromadb";
import { EngramError } from "../core/errors.js";
import { BoundedMap, DEFAULT_MAX_HANDLES } from "./bounded_map.js";
import { retryingTransient } from "./chroma_transient.js";
import { collectionsStartingWith } from "./list_collections.js";
import { isNotFound } from "./not_found.js";

/*
 * Collection handling shared by the stores on Chroma (the records of `ChromaStore`, the items of
 * the LangGraph store in store/langgraph/): find a collection by name, create it in cosine space
 * with no embedding function (vectors are always supplied) and `NEW_COLLECTION_SETTINGS`, cache the
 * handles, drop them when the client changes or a collection vanishes under them, and turn driver
 * errors into `EngramError`s.
 */

/** Chroma's server refuses batches larger than about 5,400 rows (its pre-flight check). */
export const MAX_ROWS_PER_CALL = 5_000;

/**
 * The vector-index settings of every collection created from now on (Chroma 1.0 reads `hnsw:` keys
 * of the metadata once, when a collection is created, and keeps them; collections created before
 * keep Chroma's defaults and work as they did). Measured in docs/benchmarks.md, session 9:
 * - `hnsw:sync_threshold` 50 (Chroma's default 1,000): the local server applies every write by
 *   reading back, from its log, everything written since it last saved the vector index, which it
 *   does every `sync_threshold` records. A one-turn add re-read up to 1,000 records (about 20 ms of
 *   server CPU per request, 10 on average); at 50 it reads at most 50 (6-8 ms a request; 32
 *   measured the same, 100 a little more: below that, saving the index costs what reading saves).
 * - `hnsw:construction_ef` 48 (default 100): inserting a vector (over half the server's CPU in a
 *   bulk import) searches that many candidates; 48 cuts the server's CPU per stored record by about
 *   a fifth.
 * - `hnsw:search_ef` 200 (default 100): Chroma's own queries (the LangGraph store, `where`-filtered
 *   queries) search more candidates, which keeps their top 10 within 0.99 of exact search over
 *   the less thorough index.
 */
export const NEW_COLLECTION_SETTINGS: Readonly<Metadata> = Object.freeze({
  "hnsw:space": "cosine",
  "hnsw:sync_threshold": 50,
  "hnsw:construction_ef": 48,
  "hnsw:search_ef": 200,
});

export interface ChromaCollectionsOptions {
  /** Resolves the client lazily (starting the local server on first use). */
  client: () => Promise<ChromaClient>;
  /** For messages: where the store is. @default "Chroma" */
  describe?: () => string;
  /**
   * Told when the client changed (a restarted local server may listen on another port), after the
   * cached handles were dropped: a store drops handles it keeps elsewhere too.
   * @default none
   */
  clientChanged?: () => void;
  /**
   * Most collection handles kept (least recently used leave first; one that left costs a lookup
   * round trip when its user comes back). @default 10_000 (DEFAULT_MAX_HANDLES)
   */
  maxHandles?: number;
}

/** Finds, creates and caches one store's collections; wraps driver errors as `EngramError`s. */
export class ChromaCollections {
  /**
   * Collections known to exist, by name, the most recently used kept (one per user: unbounded, a
   * long-running server kept every user's handle it ever met). Missing ones are not cached: another
   * process may create them.
   */
  private readonly known: BoundedMap<string, Promise<Collection>>;

  /** The client the cached handles were made with. */
  private lastClient?: ChromaClient;

  constructor(private readonly options: ChromaCollectionsOptions) {
    this.known = new BoundedMap(options.maxHandles ?? DEFAULT_MAX_HANDLES);
  }

  /** The collection of that name; undefined when it does not exist. */
  async find(name: string): Promise<Collection | undefined> {
    const cached = this.known.get(name);
    if (cached) return cached;
    const client = await this.client();
    try {
      const found = await client.getCollection({ name });
      this.known.set(name, Promise.resolve(found));
      return found;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.wrap("getCollection", error);
    }
  }

  /**
   * The collection of that name, created (cosine space, `NEW_COLLECTION_SETTINGS`, with `metadata`)
   * when missing. An existing collection keeps the settings it was created with.
   *
   * Not done here: a read (a count) when the collection is first found, which would take the
   * server's first-read catch-up (a replay of the collection's log, in the queue that applies every
   * collection's writes) off the first search. With it, the model-based fuzz (seed 20261206) met
   * Chroma 1.0's "Nothing found on disk" on another instance's read racing the collection's first
   * write (store/chroma_transient.ts: the count widened that window), so it was taken out.
   */
  async findOrCreate(name: string, metadata: Metadata): Promise<Collection> {
    const cached = this.known.get(name);
    if (cached) return cached;
    const client = await this.client();
    const pending = client
      .getOrCreateCollection({ name, embeddingFunction: null, metadata: { ...NEW_COLLECTION_SETTINGS, ...metadata } })
      .catch((error: unknown) => {
        this.known.delete(name);
        throw this.wrap("createCollection", error);
      });
    this.known.set(name, pending);
    return pending;
  }

  /** The server's collections whose name starts with `start`, listed `page` at a time. */
  async startingWith(start: string, page: number): Promise<Collection[]> {
    const client = await this.client();
    return this.call("listCollections", async () => {
      const found: Collection[] = [];
      for await (const collection of collectionsStartingWith(client, start, page)) found.push(collection);
      return found;
    });
  }

  /**
   * Runs `run`; if the server was unreachable, lets `recover` heal it (the connection restarts a
   * local server that died, or waits a moment for one given by URL) and runs it once more. The
   * callers' work is idempotent or a read (upserts and deletes by id, queries), so once more is safe.
   */
  async healing<T>(run: () => Promise<T>, recover: ((elapsedMs: number) => Promise<void>) | undefined): Promise<T> {
    const started = Date.now();
    try {
      return await run();
    } catch (error) {
      if (!recover || !(error instanceof EngramError) || error.code !== "STORE_UNAVAILABLE") throw error;
      // How long it took tells a hung server (past the request deadline) from one that refused.
      await recover(Date.now() - started);
      // Asking for the client drops handles made by an older one (a restart on another port).
      await this.client();
      return run();
    }
  }

  /**
   * Runs a driver call; a collection deleted elsewhere is forgotten so the next call looks again.
   * A call that meets one of Chroma's transient errors is tried again (store/chroma_transient.ts).
   */
  async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await retryingTransient(run);
    } catch (error) {
      if (error instanceof ChromaNotFoundError) this.known.clear();
      throw this.wrap(operation, error);
    }
  }

  /** Drops the handle of one collection, or of all. */
  forget(name?: string): void {
    if (name === undefined) this.known.clear();
    else this.known.delete(name);
  }

  /** The current client; handles made by an older one (a restart on another port) are dropped. */
  async client(): Promise<ChromaClient> {
    try {
      const client = await this.options.client();
      if (client !== this.lastClient) {
        const changed = this.lastClient !== undefined;
        this.lastClient = client;
        if (changed) {
          this.known.clear();
          this.options.clientChanged?.();
        }
      }
      return client;
    } catch (error) {
      throw this.wrap("connect", error);
    }
  }

  /** A driver error as an `EngramError`: STORE_UNAVAILABLE when the server did not answer. */
  wrap(operation: string, error: unknown): EngramError {
    if (error instanceof EngramError) return error;
    const where = this.options.describe?.() ?? "Chroma";
    if (isUnavailable(error)) {
      return new EngramError("STORE_UNAVAILABLE", `${where} is unreachable (${operation}).`, { cause: error });
    }
    // Vectors of another size than the collection's are another model's, not a bad record: a
    // drain keeps them queued (a STORE_ERROR dropped them) and the caller is told which sizes met.
    const sizes = /expecting embedding with dimension of (\d+), got (\d+)/i.exec((error as Error)?.message ?? "");
    if (sizes) {
      return new EngramError(
        "EMBEDDINGS_MISMATCH",
        `${where} holds vectors of ${sizes[1]} dimensions in this collection, but the embedding model gave ${sizes[2]} (${operation}): ` +
          "vectors of different sizes cannot be compared. Use the model that wrote the collection, or move it with `reembed` (docs/embeddings.md).",
        { cause: error, details: { dimensions: Number(sizes[2]), expected: Number(sizes[1]) } },
      );
    }
    return new EngramError("STORE_ERROR", `${where} failed on ${operation}: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof ChromaConnectionError) return true;
  // A server shedding load (429), or a gateway in front of one that restarts (502, 503, 504; the
  // client gives these as "<status>: <status text>"): not the record's fault. As a STORE_ERROR, a
  // drain dropped the write as refused once a read answered (memory/writer_store_busy.int).
  if ((error as Error)?.name === "ChromaRateLimitError" || /^(502|503|504): /.test((error as Error)?.message ?? "")) return true;
  const text = `${(error as Error)?.message ?? ""} ${String((error as { cause?: unknown })?.cause ?? "")}`;
  return /ECONNREFUSED|ECONNRESET|fetch failed|socket hang up|Failed to connect|ETIMEDOUT|EHOSTUNREACH/i.test(text);
}
