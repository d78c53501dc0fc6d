import { join } from "node:path";
import {
  BaseStore,
  type Item,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type SearchItem,
} from "@langchain/langgraph-checkpoint";
import { EngramError } from "../../core/errors.js";
import { LocalEmbeddings } from "../../embeddings/local.js";
import { ChromaConnection } from "../../store/connection.js";
import { StoreCollections } from "./collections.js";
import { parseFilter } from "./filter.js";
import type { EngramStoreOptions, EngramStoreTtlConfig } from "./options.js";
import { StoreReader } from "./reader.js";
import type { StoredItem } from "./rows.js";
import { StoreIndex } from "./store_index.js";
import {
  validateCount,
  validateIndexConfig,
  validateKey,
  validateMatchPath,
  validateNamespace,
  validatePutIndex,
  validateStorePrefix,
  validateTtl,
  validateTtlConfig,
  validateValue,
} from "./validate.js";
import { StoreWriter, type WriteRequest } from "./writer.js";
import { describeValue } from "../../core/describe.js";

/** A get as `batch` accepts it: LangGraph's, plus whether to restart the item's TTL. */
export interface EngramGetOperation {
  namespace: string[];
  key: string;
  /** @default the store's `ttl.refreshOnRead` (true) */
  refreshTtl?: boolean;
}

/** A search as `batch` accepts it: LangGraph's, plus whether to restart the found items' TTL. */
export interface EngramSearchOperation {
  namespacePrefix: string[];
  filter?: Record<string, unknown>;
  /** @default 10 */
  limit?: number;
  /** @default 0 */
  offset?: number;
  query?: string;
  /** @default the store's `ttl.refreshOnRead` (true) */
  refreshTtl?: boolean;
}

/** A put as `batch` accepts it: LangGraph's, plus a TTL in minutes (null: never expires). */
export interface EngramPutOperation {
  namespace: string[];
  key: string;
  value: Record<string, unknown> | null;
  index?: false | string[];
  /** @default the store's `ttl.defaultTtl` (none: never expires) */
  ttl?: number | null;
}

type Plan =
  | { kind: "get"; namespace: string[]; key: string; refresh: boolean }
  | { kind: "search"; prefix: string[]; filter: ReturnType<typeof parseFilter>; limit: number; offset: number; query?: string; refresh: boolean }
  | { kind: "write"; request: WriteRequest }
  | { kind: "list"; matchConditions?: MatchCondition[]; maxDepth?: number; limit: number; offset: number };

/**
 * A LangGraph `BaseStore` on Chroma: put / get / delete, search by namespace prefix, filter
 * (`$eq $ne $gt $gte $lt $lte $in $nin`) and meaning, `listNamespaces`, an index naming the
 * fields to embed, and a TTL with refresh on read. Pass it as a graph's `store`; nodes reach it
 * through `config.store`. docs/store.md explains the layout and every difference from
 * InMemoryStore.
 *
 * Nothing happens in the constructor but option checks: the connection (and the local Chroma
 * server) starts on first use or `start()`.
 */
export class EngramStore extends BaseStore {
  private readonly connection: ChromaConnection;

  private readonly collections: StoreCollections;

  private readonly reader: StoreReader;

  private readonly writer: StoreWriter;

  private readonly ttl: EngramStoreTtlConfig & { refreshOnRead: boolean };

  private sweeper?: ReturnType<typeof setInterval>;

  /** Set by `stop()`: the sweeper stays off until `start()`. */
  private stopped = false;

  private closed = false;

  constructor(options: EngramStoreOptions = {}) {
    super();
    const prefix = validateStorePrefix(options.prefix ?? "engram");
    const index = validateIndexConfig(options.index);
    const ttl = validateTtlConfig(options.ttl);
    this.ttl = { ...ttl, refreshOnRead: ttl.refreshOnRead ?? true };
    const clock = options.clock ?? Date.now;
    this.connection = new ChromaConnection(options.chroma ?? {}, join(options.dataDir ?? ".engram", "chroma"));
    this.collections = new StoreCollections(prefix, () => this.connection.client(), () => this.connection.describe());
    const storeIndex =
      index === false ? undefined : new StoreIndex(index.embeddings ?? new LocalEmbeddings(), index.fields ?? ["$"], index.dims);
    this.reader = new StoreReader(this.collections, storeIndex, clock);
    this.writer = new StoreWriter(this.collections, storeIndex, clock, this.ttl.defaultTtl);
  }

  /**
   * Runs LangGraph store operations; results come back in operation order. Every operation is
   * checked first, so one bad operation fails the whole batch before anything is written. As in
   * InMemoryStore, reads see the store as it was before the batch's writes.
   */
  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    this.ensureOpen();
    if (!Array.isArray(operations)) throw new EngramError("INVALID_OPTIONS", "batch takes a list of operations.");
    const plans = operations.map((operation) => this.plan(operation));
    this.startSweeper();
    try {
      return (await this.run(plans)) as OperationResults<Op>;
    } catch (error) {
      if (!(error instanceof EngramError) || error.code !== "STORE_UNAVAILABLE") throw error;
      // The local server died: the connection restarts it (a server given by URL is only waited
      // for a moment), handles of the old server go, and the batch runs once more. Its writes are
      // puts and deletes by key, so running them twice changes nothing.
      await this.connection.recover();
      this.collections.forget();
      return (await this.run(plans)) as OperationResults<Op>;
    }
  }

  private async run(plans: Plan[]): Promise<unknown[]> {
    const results: unknown[] = new Array(plans.length).fill(null);
    const gets = plans.flatMap((plan, i) => (plan.kind === "get" ? [{ plan, i }] : []));
    const reads = Promise.all([
      this.reader.getMany(gets.map(({ plan }) => plan)).then((items) => {
        gets.forEach(({ i }, n) => {
          results[i] = items[n] ? toItem(items[n]) : null;
        });
        return gets.flatMap(({ plan }, n) => (plan.refresh && items[n] ? [items[n]] : []));
      }),
      ...plans.map(async (plan, i) => {
        if (plan.kind === "search") {
          const found = await this.reader.search({ ...plan, conditions: plan.filter });
          results[i] = found.map(({ item, score }): SearchItem => (score === undefined ? toItem(item) : { ...toItem(item), score }));
          return plan.refresh ? found.map(({ item }) => item) : [];
        }
        if (plan.kind === "list") results[i] = await this.reader.listNamespaces(plan);
        return [];
      }),
    ]);
    const toRefresh = (await reads).flat();
    await this.writer.refresh(toRefresh);
    await this.writer.write(plans.flatMap((plan) => (plan.kind === "write" ? [plan.request] : [])));
    return results;
  }

  override async get(namespace: string[], key: string, options: { refreshTtl?: boolean } = {}): Promise<Item | null> {
    const [item] = (await this.batch([{ namespace, key, ...options } as EngramGetOperation as Operation])) as unknown as [Item | null];
    return item;
  }

  override async search(
    namespacePrefix: string[],
    options: { filter?: Record<string, unknown>; limit?: number; offset?: number; query?: string; refreshTtl?: boolean } = {},
  ): Promise<SearchItem[]> {
    const search: EngramSearchOperation = { namespacePrefix, limit: 10, offset: 0, ...options };
    const [items] = (await this.batch([search as Operation])) as unknown as [SearchItem[]];
    return items;
  }

  /**
   * Stores a value (a plain, JSON-serializable object). `index`: `false` to skip embedding, or the
   * fields to embed instead of the store's. `options.ttl`: minutes until it expires (null: never);
   * unset, the store's `ttl.defaultTtl`.
   */
  override async put(
    namespace: string[],
    key: string,
    value: Record<string, unknown>,
    index?: false | string[],
    options: { ttl?: number | null } = {},
  ): Promise<void> {
    validateNamespace(namespace, { forWrite: true });
    await this.batch([{ namespace, key, value, index, ...options } as EngramPutOperation as Operation]);
  }

  override async delete(namespace: string[], key: string): Promise<void> {
    await this.batch([{ namespace, key, value: null }]);
  }

  override async listNamespaces(
    options: { prefix?: string[]; suffix?: string[]; maxDepth?: number; limit?: number; offset?: number } = {},
  ): Promise<string[][]> {
    const matchConditions: MatchCondition[] = [];
    if (options.prefix) matchConditions.push({ matchType: "prefix", path: validateMatchPath(options.prefix, "prefix") });
    if (options.suffix) matchConditions.push({ matchType: "suffix", path: validateMatchPath(options.suffix, "suffix") });
    const [namespaces] = await this.batch([
      { matchConditions: matchConditions.length > 0 ? matchConditions : undefined, maxDepth: options.maxDepth, limit: options.limit ?? 100, offset: options.offset ?? 0 },
    ]);
    return namespaces as string[][];
  }

  /** Deletes every expired item from Chroma; returns how many. Reads already hide them. */
  async sweep(): Promise<number> {
    this.ensureOpen();
    let deleted = 0;
    for (const { collection, items } of await this.reader.expired()) {
      await this.writer.deleteItems(collection, items);
      deleted += items.length;
    }
    return deleted;
  }

  /** Connects (starting the local server if it is the default) and starts the sweeper if one is configured. */
  override async start(): Promise<void> {
    this.ensureOpen();
    this.stopped = false;
    await this.connection.client();
    this.startSweeper();
  }

  /** Stops the sweeper. The store stays usable; `start()` turns the sweeper back on. */
  override stop(): void {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Stops the sweeper and releases the connection (the local server stops if this store started it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.collections.forget();
    await this.connection.close();
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

  /** Checks one operation and says what to do; throws before anything runs. */
  private plan(operation: unknown): Plan {
    if (operation === null || typeof operation !== "object") {
      throw new EngramError("INVALID_OPTIONS", `A store operation must be an object, got ${operation === null ? "null" : typeof operation}.`);
    }
    const op = operation as Record<string, unknown>;
    if ("namespacePrefix" in op) {
      if (op.query !== undefined && typeof op.query !== "string") {
        throw new EngramError("INVALID_OPTIONS", `query must be a string, got ${typeof op.query}.`);
      }
      return {
        kind: "search",
        prefix: validateNamespace(op.namespacePrefix, { allowEmpty: true }),
        filter: parseFilter(op.filter),
        limit: validateCount(op.limit, "limit", 10)!,
        offset: validateCount(op.offset, "offset", 0)!,
        query: (op.query as string | undefined) || undefined,
        refresh: this.refreshFlag(op.refreshTtl),
      };
    }
    if ("namespace" in op && "key" in op) {
      const namespace = validateNamespace(op.namespace);
      const key = validateKey(op.key);
      if (!("value" in op)) return { kind: "get", namespace, key, refresh: this.refreshFlag(op.refreshTtl) };
      if (op.value === null) return { kind: "write", request: { namespace, key, value: null, index: undefined, ttl: undefined } };
      validateNamespace(namespace, { forWrite: true });
      return {
        kind: "write",
        request: { namespace, key, value: validateValue(op.value), index: validatePutIndex(op.index), ttl: validateTtl(op.ttl) },
      };
    }
    if ("matchConditions" in op || "limit" in op || "maxDepth" in op) {
      const conditions = op.matchConditions;
      if (conditions !== undefined && !Array.isArray(conditions)) {
        throw new EngramError("INVALID_OPTIONS", "matchConditions must be a list.");
      }
      return {
        kind: "list",
        matchConditions: conditions?.map((condition: unknown) => checkCondition(condition)),
        maxDepth: validateCount(op.maxDepth, "maxDepth", undefined, 1),
        limit: validateCount(op.limit, "limit", 100)!,
        offset: validateCount(op.offset, "offset", 0)!,
      };
    }
    throw new EngramError("INVALID_OPTIONS", `Unknown store operation with fields ${Object.keys(op).join(", ") || "(none)"}.`);
  }

  private refreshFlag(value: unknown): boolean {
    if (value === undefined || value === null) return this.ttl.refreshOnRead;
    if (typeof value !== "boolean") throw new EngramError("INVALID_TTL", `refreshTtl must be a boolean, got ${typeof value}.`);
    return value;
  }

  private ensureOpen(): void {
    if (this.closed) throw new EngramError("CLOSED", "This EngramStore was closed.");
  }
}

function checkCondition(condition: unknown): MatchCondition {
  const raw = (condition ?? {}) as Partial<MatchCondition>;
  if (raw.matchType !== "prefix" && raw.matchType !== "suffix") {
    throw new EngramError("INVALID_OPTIONS", `matchType must be "prefix" or "suffix", got ${describeValue(raw.matchType)}.`);
  }
  return { matchType: raw.matchType, path: validateMatchPath(raw.path, raw.matchType) };
}

function toItem(item: StoredItem): Item {
  return {
    namespace: item.namespace,
    key: item.key,
    value: item.value,
    createdAt: new Date(item.createdAt),
    updatedAt: new Date(item.updatedAt),
  };
}
