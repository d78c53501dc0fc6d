import { join } from "node:path";
import { EngramError } from "../../core/errors.js";
import { embeddingsIdentity } from "../../embeddings/identity.js";
import { LocalEmbeddings } from "../../embeddings/local.js";
import { ChromaCollections } from "../chroma_collections.js";
import { ChromaConnection } from "../connection.js";
import { StoreCollections } from "./collections.js";
import { StoreModelCheck } from "./model_check.js";
import { planOperation, type Plan } from "./operations.js";
import type { EngramStoreOptions, EngramStoreTtlConfig } from "./options.js";
import { StoreReader, type ScoredItem } from "./reader.js";
import type { StoredItem } from "./rows.js";
import { StoreIndex } from "./store_index.js";
import { resolveEmbeddingTimeout } from "../../embeddings/deadline.js";
import { validateIndexConfig, validateStorePrefix, validateTtlConfig } from "./validate.js";
import { StoreWriter } from "./writer.js";

/** What one operation of a batch gave, in the operation's place. */
export type ItemResult =
  | { kind: "get"; item: StoredItem | undefined }
  | { kind: "search"; items: ScoredItem[] }
  | { kind: "list"; namespaces: string[][] }
  | { kind: "write" };

/**
 * The storage engine behind `EngramStore` (adapters/store): LangGraph's store semantics on Chroma
 * (items by namespace and key, search by prefix, filter and meaning, namespace listings, TTL with
 * refresh on read and a sweeper), without LangGraph: operations come in as plain objects and are
 * checked here (operations.ts). docs/store.md explains the layout.
 *
 * Nothing happens in the constructor but option checks: the connection (and the local Chroma
 * server) starts on first use or `start()`.
 */
export class ItemStore {
  private readonly connection: ChromaConnection;

  private readonly chroma: ChromaCollections;

  private readonly collections: StoreCollections;

  private readonly reader: StoreReader;

  private readonly writer: StoreWriter;

  /** Undefined without an index: such a store embeds nothing. */
  private readonly modelCheck?: StoreModelCheck;

  private readonly ttl: EngramStoreTtlConfig & { refreshOnRead: boolean };

  /**
   * The embeddings this store made itself (an index without `embeddings`), closed with it: their
   * worker threads would otherwise run on after `close()`, until their idle timeout.
   */
  private readonly ownedEmbeddings?: LocalEmbeddings;

  private sweeper?: ReturnType<typeof setInterval>;

  /** Set by `stop()`: the sweeper stays off until `start()`. */
  private stopped = false;

  private closed = false;

  constructor(options: EngramStoreOptions = {}) {
    const prefix = validateStorePrefix(options.prefix ?? "engram");
    const index = validateIndexConfig(options.index);
    const ttl = validateTtlConfig(options.ttl);
    this.ttl = { ...ttl, refreshOnRead: ttl.refreshOnRead ?? true };
    const clock = options.clock ?? Date.now;
    this.connection = new ChromaConnection(options.chroma ?? {}, join(options.dataDir ?? ".engram", "chroma"));
    const chroma = new ChromaCollections({ client: () => this.connection.client(), describe: () => this.connection.describe() });
    this.chroma = chroma;
    this.collections = new StoreCollections(prefix, chroma);
    let storeIndex: StoreIndex | undefined;
    // Checked with or without an index, before a model is made.
    const timeoutMs = resolveEmbeddingTimeout(options.embeddingTimeoutMs, index === false ? undefined : index.embeddings);
    if (index !== false) {
      const embeddings = index.embeddings ?? (this.ownedEmbeddings = new LocalEmbeddings());
      storeIndex = new StoreIndex(embeddings, index.fields ?? ["$"], index.dims, timeoutMs);
      this.modelCheck = new StoreModelCheck({
        prefix,
        modelId: embeddingsIdentity(embeddings),
        client: () => chroma.client(),
        call: (operation, run) => chroma.call(operation, run),
      });
    }
    this.reader = new StoreReader(this.collections, storeIndex, clock);
    this.writer = new StoreWriter(this.collections, storeIndex, clock, this.ttl.defaultTtl);
  }

  /**
   * Runs store operations; results come back in operation order. Every operation is checked
   * first, so one bad operation fails the whole batch before anything is written. As in
   * InMemoryStore, reads see the store as it was before the batch's writes.
   */
  async batch(operations: readonly unknown[]): Promise<ItemResult[]> {
    this.ensureOpen();
    if (!Array.isArray(operations)) throw new EngramError("INVALID_OPTIONS", "batch takes a list of operations.");
    const plans = operations.map((operation) => planOperation(operation, this.ttl.refreshOnRead));
    this.startSweeper();
    // The local server died: the connection restarts it (a server given by URL is only waited for
    // a moment), handles of the old server go, and the step that met it runs once more. The reads
    // and the writes are two steps: a server dying among the writes must not run the reads again,
    // which would then see the writes the first attempt landed. The writes are puts and deletes by
    // key, so running them twice changes nothing.
    const recover = async (elapsedMs: number): Promise<void> => {
      await this.connection.recover(elapsedMs);
      this.collections.forget();
    };
    const { results, toRefresh } = await this.chroma.healing(() => this.read(plans), recover);
    await this.chroma.healing(async () => {
      await this.writer.refresh(toRefresh);
      await this.writer.write(plans.flatMap((plan) => (plan.kind === "write" ? [plan.request] : [])));
    }, recover);
    return results;
  }

  /** The batch's reads, from the store as it is before its writes; and the items whose TTL they restart. */
  private async read(plans: Plan[]): Promise<{ results: ItemResult[]; toRefresh: StoredItem[] }> {
    // Only vectors of two models cannot mix: a batch that embeds or queries checks the model first.
    if (plans.some((plan) => (plan.kind === "write" && plan.request.value !== null) || (plan.kind === "search" && plan.query))) {
      await this.modelCheck?.check();
    }
    const results: ItemResult[] = plans.map(() => ({ kind: "write" }));
    const gets = plans.flatMap((plan, i) => (plan.kind === "get" ? [{ plan, i }] : []));
    const reads = Promise.all([
      this.reader.getMany(gets.map(({ plan }) => plan)).then((items) => {
        gets.forEach(({ i }, n) => {
          results[i] = { kind: "get", item: items[n] };
        });
        return gets.flatMap(({ plan }, n) => (plan.refresh && items[n] ? [items[n]] : []));
      }),
      ...plans.map(async (plan, i) => {
        if (plan.kind === "search") {
          const found = await this.reader.search({ ...plan, conditions: plan.filter });
          results[i] = { kind: "search", items: found };
          return plan.refresh ? found.map(({ item }) => item) : [];
        }
        if (plan.kind === "list") results[i] = { kind: "list", namespaces: await this.reader.listNamespaces(plan) };
        return [];
      }),
    ]);
    return { results, toRefresh: (await reads).flat() };
  }

  /** Deletes every expired item from Chroma; returns how many. Reads already hide them. */
  async sweep(): Promise<number> {
    this.ensureOpen();
    let deleted = 0;
    for (const { collection, items } of await this.reader.expired()) {
      deleted += await this.writer.deleteItems(collection, items);
    }
    return deleted;
  }

  /** Connects (starting the local server if it is the default) and starts the sweeper if one is configured. */
  async start(): Promise<void> {
    this.ensureOpen();
    this.stopped = false;
    await this.connection.client();
    this.startSweeper();
  }

  /** Stops the sweeper. The store stays usable; `start()` turns the sweeper back on. */
  stop(): void {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /**
   * Stops the sweeper and releases the connection (the local server stops if this store started
   * it) and the worker threads of the default embeddings.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.collections.forget();
    try {
      await this.connection.close();
    } finally {
      await this.ownedEmbeddings?.close();
    }
  }

  private startSweeper(): void {
    const minutes = this.ttl.sweepIntervalMinutes;
    if (minutes === undefined || this.sweeper || this.stopped || this.closed) return;
    const report = this.ttl.onSweep ?? ((outcome) => {
      if ("error" in outcome) console.warn(`EngramStore sweep failed: ${outcome.error.message}`);
    });
    this.sweeper = setInterval(() => {
      this.sweep().then(
        (deleted) => report({ deleted }),
        (error: unknown) =>
          report({ error: error instanceof EngramError ? error : new EngramError("STORE_ERROR", "The TTL sweep failed.", { cause: error }) }),
      );
    }, minutes * 60_000);
    // The sweeper alone must not keep a process alive.
    this.sweeper.unref?.();
  }

  private ensureOpen(): void {
    if (this.closed) throw new EngramError("CLOSED", "This EngramStore was closed.");
  }
}
