import {
  BaseStore,
  type Item,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type SearchItem,
} from "@langchain/langgraph-checkpoint";
import { refuseUnknownOptions, type OptionNames } from "../../core/option_names.js";
import { ItemStore, type ItemResult } from "../../store/langgraph/item_store.js";
import type { EngramStoreOptions } from "../../store/langgraph/options.js";
import type { StoredItem } from "../../store/langgraph/rows.js";
import { validateMatchPath, validateNamespace } from "../../store/langgraph/validate.js";

/*
 * The LangGraph `BaseStore` door to the item store on Chroma (store/langgraph/): each method
 * becomes store operations, each result a LangGraph `Item` / `SearchItem`. The storage, the
 * checks and the TTL live in the engine.
 */

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

/** Every name of EngramStoreOptions. */
const STORE_OPTIONS: OptionNames<EngramStoreOptions> = {
  dataDir: true,
  chroma: true,
  prefix: true,
  index: true,
  embeddingTimeoutMs: true,
  ttl: true,
  clock: true,
};

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
  private readonly engine: ItemStore;

  constructor(options: EngramStoreOptions = {}) {
    super();
    refuseUnknownOptions(options, "EngramStore", STORE_OPTIONS, '{ dataDir: ".engram" }');
    this.engine = new ItemStore(options);
  }

  /**
   * Runs LangGraph store operations; results come back in operation order. Every operation is
   * checked first, so one bad operation fails the whole batch before anything is written. As in
   * InMemoryStore, reads see the store as it was before the batch's writes.
   */
  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const results = await this.engine.batch(operations);
    return results.map(toResult) as OperationResults<Op>;
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
  sweep(): Promise<number> {
    return this.engine.sweep();
  }

  /** Connects (starting the local server if it is the default) and starts the sweeper if one is configured. */
  override start(): Promise<void> {
    return this.engine.start();
  }

  /** Stops the sweeper. The store stays usable; `start()` turns the sweeper back on. */
  override stop(): void {
    this.engine.stop();
  }

  /**
   * Stops the sweeper and releases the connection (the local server stops if this store started
   * it) and the worker threads of the default embeddings.
   */
  close(): Promise<void> {
    return this.engine.close();
  }
}

function toResult(result: ItemResult): Item | SearchItem[] | string[][] | null {
  switch (result.kind) {
    case "get":
      return result.item ? toItem(result.item) : null;
    case "search":
      return result.items.map(({ item, score }): SearchItem => (score === undefined ? toItem(item) : { ...toItem(item), score }));
    case "list":
      return result.namespaces;
    case "write":
      return null;
  }
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
