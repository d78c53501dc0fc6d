import { ChromaConnectionError, ChromaNotFoundError, type ChromaClient, type Collection } from "chromadb";
import { EngramError } from "../../core/errors.js";
import { shortHash } from "../../core/ids.js";

/** Chroma's server refuses batches larger than about 5,400 rows (its pre-flight check). */
export const MAX_ROWS_PER_CALL = 5_000;

const LIST_PAGE = 100;

/**
 * One Chroma collection per first namespace label, named `<prefix>-ns-<hash of the label>`.
 * Everything under `["alice", ...]` lives in alice's collection, so reads, queries and writes
 * there cost the same however many other first labels hold data, and one label's data can be
 * dropped as a whole. The label is hashed: labels may hold characters Chroma refuses in names,
 * and a name should not reveal a user id.
 */
export function collectionNameForLabel(prefix: string, label: string): string {
  return `${prefix}-ns-${shortHash(label)}`;
}

/** Finds, creates and caches the store's collections; wraps driver errors as `EngramError`s. */
export class StoreCollections {
  /** Collections known to exist. Missing ones are not cached: another process may create them. */
  private readonly known = new Map<string, Promise<Collection>>();

  /** The client the cached handles were made with. */
  private lastClient?: ChromaClient;

  constructor(
    private readonly prefix: string,
    private readonly connect: () => Promise<ChromaClient>,
    private readonly describe: () => string,
  ) {}

  /** The collection of a first label; undefined when nothing was ever written under it. */
  async find(label: string): Promise<Collection | undefined> {
    const name = collectionNameForLabel(this.prefix, label);
    const cached = this.known.get(name);
    if (cached) return cached;
    const client = await this.client();
    try {
      const found = await client.getCollection({ name });
      this.known.set(name, Promise.resolve(found));
      return found;
    } catch (error) {
      if (error instanceof ChromaNotFoundError || /does not exist|not found/i.test(String(error))) return undefined;
      throw this.wrap("getCollection", error);
    }
  }

  async findOrCreate(label: string): Promise<Collection> {
    const name = collectionNameForLabel(this.prefix, label);
    const cached = this.known.get(name);
    if (cached) return cached;
    const client = await this.client();
    const pending = client
      .getOrCreateCollection({ name, embeddingFunction: null, metadata: { "hnsw:space": "cosine", engramStore: 1 } })
      .catch((error: unknown) => {
        this.known.delete(name);
        throw this.wrap("createCollection", error);
      });
    this.known.set(name, pending);
    return pending;
  }

  /** Every collection of this store (for searches and listings across all first labels). */
  async all(): Promise<Collection[]> {
    const client = await this.client();
    const mine: Collection[] = [];
    const start = `${this.prefix}-ns-`;
    for (let offset = 0; ; offset += LIST_PAGE) {
      const page = await this.call("listCollections", () => client.listCollections({ limit: LIST_PAGE, offset }));
      for (const collection of page) {
        if (collection.name.startsWith(start) && collection.metadata?.engramStore === 1) mine.push(collection);
      }
      if (page.length < LIST_PAGE) return mine;
    }
  }

  /** Runs a driver call; a collection deleted elsewhere is forgotten so the next call looks again. */
  async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ChromaNotFoundError) this.known.clear();
      throw this.wrap(operation, error);
    }
  }

  forget(): void {
    this.known.clear();
  }

  private async client(): Promise<ChromaClient> {
    try {
      const client = await this.connect();
      // A restarted local server may listen on another port: handles of the old client go.
      if (this.lastClient && client !== this.lastClient) this.known.clear();
      this.lastClient = client;
      return client;
    } catch (error) {
      throw this.wrap("connect", error);
    }
  }

  private wrap(operation: string, error: unknown): EngramError {
    if (error instanceof EngramError) return error;
    const where = this.describe();
    const text = `${(error as Error)?.message ?? ""} ${String((error as { cause?: unknown })?.cause ?? "")}`;
    if (error instanceof ChromaConnectionError || /ECONNREFUSED|ECONNRESET|fetch failed|socket hang up|Failed to connect|ETIMEDOUT|EHOSTUNREACH/i.test(text)) {
      return new EngramError("STORE_UNAVAILABLE", `${where} is unreachable (${operation}).`, { cause: error });
    }
    return new EngramError("STORE_ERROR", `${where} failed on ${operation}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}
