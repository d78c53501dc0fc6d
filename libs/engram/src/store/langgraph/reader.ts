import type { Collection, Metadata as ChromaMetadata, Where } from "chromadb";
import type { StoreCollections } from "./collections.js";
import { matchesFilter, type FilterCondition } from "./filter.js";
import { expiredItemsWhere, itemFilterClauses, itemPrefixClauses, itemRowWhere } from "../chroma_where.js";
import { firstLabelOf, selectNamespaces, type NamespaceMatch } from "./namespaces.js";
import { expiryOf, fromItemRow, genOf, itemId, ownerId, startsWith, type StoredItem } from "./rows.js";
import type { StoreIndex } from "./store_index.js";
import { cosine } from "../../scoring/ranker.js";

/** Rows read per Chroma `get` when scanning. */
const SCAN_PAGE = 1_000;

/**
 * The most rows a query asks Chroma for: its `limit` and `n_results` are 32-bit unsigned (a
 * larger one is refused), and `exactRows` asks one more. A search's `limit` has no upper bound
 * (`limit: Number.MAX_SAFE_INTEGER` means "all", as in InMemoryStore).
 */
const MAX_ROWS_ASKED = 2 ** 32 - 2;

export interface SearchRequest {
  prefix: string[];
  conditions: FilterCondition[];
  limit: number;
  offset: number;
  query?: string;
}

export interface ScoredItem {
  item: StoredItem;
  score?: number;
}

/**
 * The read side: get by key, search (by filter, or by meaning with a query), list namespaces.
 * Chroma narrows the candidates (collection by first label, `where` by namespace and filter);
 * the exact rules (namespace, expiry, filter) are then applied here to every candidate.
 */
export class StoreReader {
  constructor(
    private readonly collections: StoreCollections,
    private readonly index: StoreIndex | undefined,
    private readonly clock: () => number,
  ) {}

  /** Live items by namespace and key, in request order (undefined: missing or expired). */
  async getMany(requests: ReadonlyArray<{ namespace: string[]; key: string }>): Promise<Array<StoredItem | undefined>> {
    const now = this.clock();
    const found = new Map<string, StoredItem>();
    const byLabel = groupBy(requests, (request) => request.namespace[0]!);
    await Promise.all(
      [...byLabel].map(async ([label, group]) => {
        const collection = await this.collections.find(label);
        if (!collection) return;
        const ids = [...new Set(group.map((request) => itemId(request.namespace, request.key)))];
        const rows = await this.collections.call("get", () => collection.get({ ids, include: ["documents", "metadatas"] as never }));
        rows.ids.forEach((id, i) => {
          const item = fromItemRow(id, rows.documents[i] ?? null, rows.metadatas[i] ?? null);
          if (item && item.expiresAt > now) found.set(id, item);
        });
      }),
    );
    return requests.map((request) => {
      const item = found.get(itemId(request.namespace, request.key));
      // The id is a hash: check that the row really is this namespace and key.
      return item && item.key === request.key && sameLabels(item.namespace, request.namespace) ? item : undefined;
    });
  }

  async search(request: SearchRequest): Promise<ScoredItem[]> {
    const need = request.offset + request.limit;
    if (request.limit === 0) return [];
    const collections = await this.collectionsUnder(request.prefix[0]);
    const clauses = [...itemPrefixClauses(request.prefix), ...pushedClauses(request.conditions)];
    const now = this.clock();
    const accept = (item: StoredItem): boolean =>
      item.expiresAt > now && startsWith(item.namespace, request.prefix) && matchesFilter(item.value, request.conditions);

    if (!request.query || !this.index) {
      const items = await this.scanAll(collections, itemRowWhere("item", clauses), accept);
      return newestFirst(items).slice(request.offset, need).map((item) => ({ item }));
    }
    const vector = await this.index.embedQuery(request.query);
    const perCollection = await Promise.all(
      collections.map((collection) => this.queryCollection(collection, vector, itemRowWhere("vectors", clauses), need, accept)),
    );
    const scored = perCollection.flat().sort((a, b) => b.score! - a.score! || compareItems(a.item, b.item));
    if (scored.length >= need) return scored.slice(request.offset, need);
    // Fewer scored items than the page needs: every scored one is here; items with nothing
    // embedded follow, newest first, without a score (as InMemoryStore appends them).
    const unscored = newestFirst(await this.scanAll(collections, itemRowWhere("unembedded", clauses), accept)).map((item) => ({ item }));
    return [...scored, ...unscored].slice(request.offset, need);
  }

  async listNamespaces(options: { matchConditions?: NamespaceMatch[]; maxDepth?: number; limit: number; offset: number }): Promise<string[][]> {
    const collections = await this.collectionsUnder(firstLabelOf(options.matchConditions));
    const now = this.clock();
    const namespaces = new Map<string, string[]>();
    for (const collection of collections) {
      await this.scan(collection, itemRowWhere("item"), ["metadatas"], (_id, _document, metadata) => {
        if (typeof metadata?._ns !== "string") return;
        if (expiryOf(metadata) <= now) return;
        namespaces.set(metadata._ns, JSON.parse(metadata._ns) as string[]);
      });
    }
    return selectNamespaces(namespaces.values(), options);
  }

  /** Ids of expired items and of their extra rows, per collection (for the sweep). */
  async expired(): Promise<Array<{ collection: Collection; items: StoredItem[] }>> {
    const now = this.clock();
    const where = expiredItemsWhere(now);
    const result: Array<{ collection: Collection; items: StoredItem[] }> = [];
    for (const collection of await this.collections.all()) {
      // `where` finds the rows whose `_expires` passed; a put since may have given one a later expiry (rows.ts).
      const items = await this.scanAll([collection], where, (item) => item.expiresAt <= now);
      if (items.length > 0) result.push({ collection, items });
    }
    return result;
  }

  /** The collection of one first label, or every collection of the store. */
  private async collectionsUnder(label: string | undefined): Promise<Collection[]> {
    if (label === undefined) return this.collections.all();
    const collection = await this.collections.find(label);
    return collection ? [collection] : [];
  }

  /**
   * The `need` best accepted items of one collection, best first. Asks Chroma for more rows
   * until enough survive the exact checks or the collection has no more: rows of one item count
   * once (its best vector), and the in-process checks may drop some.
   */
  private async queryCollection(
    collection: Collection,
    vector: number[],
    where: Where,
    need: number,
    accept: (item: StoredItem) => boolean,
  ): Promise<ScoredItem[]> {
    for (let rows = Math.min(Math.max(need * 2, 20), MAX_ROWS_ASKED); ; rows = Math.min(rows * 4, MAX_ROWS_ASKED)) {
      const result = (await this.exactRows(collection, vector, where, rows)) ?? (await this.collections.call("query", () =>
        collection.query({ queryEmbeddings: [vector], nResults: rows, where, include: ["documents", "metadatas", "distances"] as never }),
      ));
      const ids = result.ids[0] ?? [];
      const hits: Array<{ owner: string; gen?: string; distance: number }> = [];
      const items = new Map<string, StoredItem>();
      ids.forEach((id, i) => {
        const metadata = result.metadatas[0]?.[i] ?? null;
        const owner = ownerId(id, metadata);
        const item = owner === id ? fromItemRow(id, result.documents[0]?.[i] ?? null, metadata) : undefined;
        if (item) items.set(id, item);
        hits.push({ owner, gen: owner === id ? undefined : genOf(metadata), distance: result.distances[0]?.[i] ?? 2 });
      });
      const missing = [...new Set(hits.map((hit) => hit.owner))].filter((id) => !items.has(id));
      if (missing.length > 0) {
        const owners = await this.collections.call("get", () => collection.get({ ids: missing, include: ["documents", "metadatas"] as never }));
        owners.ids.forEach((id, i) => {
          const item = fromItemRow(id, owners.documents[i] ?? null, owners.metadatas[i] ?? null);
          if (item) items.set(id, item);
        });
      }
      // Rows come nearest first, so an item's first row is its best vector; an extra row of
      // another generation than the item row's is left over from a put that lost (rows.ts).
      const best = new Map<string, number>();
      for (const hit of hits) {
        if (best.has(hit.owner)) continue;
        if (hit.gen === undefined || hit.gen === items.get(hit.owner)?.gen) best.set(hit.owner, hit.distance);
      }
      const accepted: ScoredItem[] = [];
      for (const [id, distance] of best) {
        const item = items.get(id);
        if (item && accept(item)) accepted.push({ item, score: 1 - distance });
      }
      if (accepted.length >= need || ids.length < rows || rows === MAX_ROWS_ASKED) return accepted.slice(0, need);
    }
  }

  /**
   * When `where` leaves at most `rows` rows, those rows ranked exactly (cosine distance computed
   * here), in the shape of a Chroma query result; otherwise undefined. Chroma's HNSW index is
   * approximate, and with a filter it was seen to leave out a matching row whose vector had been
   * replaced: on a filter that leaves few rows, a search must return every one of them. Costs one
   * ids-only `get` more per search, and the vectors of the few rows.
   */
  private async exactRows(
    collection: Collection,
    vector: number[],
    where: Where,
    rows: number,
  ): Promise<{ ids: string[][]; documents: Array<Array<string | null>>; metadatas: Array<Array<ChromaMetadata | null>>; distances: number[][] } | undefined> {
    const allowed = await this.collections.call("get", () => collection.get({ where, limit: rows + 1, include: [] as never }));
    if (allowed.ids.length > rows) return undefined;
    if (allowed.ids.length === 0) return { ids: [[]], documents: [[]], metadatas: [[]], distances: [[]] };
    const found = await this.collections.call("get", () =>
      collection.get({ ids: allowed.ids, include: ["documents", "metadatas", "embeddings"] as never }),
    );
    const ranked = found.ids
      .map((id, i) => ({ id, i, distance: 1 - cosine(vector, (found.embeddings?.[i] as ArrayLike<number> | undefined) ?? []) }))
      .sort((a, b) => a.distance - b.distance);
    return {
      ids: [ranked.map((r) => r.id)],
      documents: [ranked.map((r) => found.documents[r.i] ?? null)],
      metadatas: [ranked.map((r) => (found.metadatas[r.i] as ChromaMetadata | null) ?? null)],
      distances: [ranked.map((r) => r.distance)],
    };
  }

  private async scanAll(collections: Collection[], where: Where, accept: (item: StoredItem) => boolean): Promise<StoredItem[]> {
    const items = new Map<string, StoredItem>();
    for (const collection of collections) {
      await this.scan(collection, where, ["documents", "metadatas"], (id, document, metadata) => {
        const item = fromItemRow(id, document, metadata);
        if (item && accept(item)) items.set(id, item);
      });
    }
    return [...items.values()];
  }

  private async scan(
    collection: Collection,
    where: Where,
    include: Array<"documents" | "metadatas">,
    visit: (id: string, document: string | null, metadata: ChromaMetadata | null) => void,
  ): Promise<void> {
    for (let offset = 0; ; offset += SCAN_PAGE) {
      const page = await this.collections.call("get", () => collection.get({ where, limit: SCAN_PAGE, offset, include: include as never }));
      page.ids.forEach((id, i) => visit(id, page.documents[i] ?? null, page.metadatas[i] ?? null));
      if (page.ids.length < SCAN_PAGE) return;
    }
  }
}

/**
 * How much of a filter goes into Chroma's `where`. Chroma 1.0 runs a `where` as one SQLite
 * statement: about a thousand clauses exceed SQLite's expression depth ("Expression tree is too
 * large") and an `$in` of tens of thousands of values its bound variables ("too many SQL
 * variables"), and the search failed with STORE_ERROR. The `where` only narrows candidates (every
 * condition is checked again in process), so past these budgets the rest of a filter is checked
 * in process only.
 */
const MAX_PUSHED_CLAUSES = 64;
const MAX_PUSHED_OPERANDS = 1_000;

/** The `where` clauses of a filter's conditions, within the budgets above. */
function pushedClauses(conditions: readonly FilterCondition[]): Where[] {
  const pushed: Where[] = [];
  let operands = 0;
  for (const clause of itemFilterClauses(conditions.map(pushable))) {
    const size = scalarsIn(clause);
    if (pushed.length >= MAX_PUSHED_CLAUSES || operands + size > MAX_PUSHED_OPERANDS) continue;
    pushed.push(clause);
    operands += size;
  }
  return pushed;
}

/** How many values a clause holds (each is one bound variable or more in Chroma's statement). */
function scalarsIn(clause: unknown): number {
  if (Array.isArray(clause)) return clause.reduce((sum: number, item) => sum + scalarsIn(item), 0);
  if (clause !== null && typeof clause === "object") return Object.values(clause).reduce((sum: number, item) => sum + scalarsIn(item), 0);
  return 1;
}

/**
 * The part of a condition that may go into the `where`:
 * - never `$ne` / `$nin`. Chroma merges an upsert's metadata into the row's, and two replicas'
 *   puts of one key may both have read the key before either landed: the last one removes only
 *   the shadows of what it read, so its row may keep a `v:` shadow of a field only the other put's
 *   value had. A clause that keeps rows could then only admit a row the in-process check drops;
 *   `$ne` / `$nin` on that shadow would drop the row, though its value lacks the field and so
 *   passes them;
 * - no `$in` longer than the operand budget (it would be skipped anyway, and building its clause
 *   costs time quadratic in its length: chroma_where.ts drops duplicates pairwise).
 */
function pushable(condition: FilterCondition): FilterCondition {
  if (condition.kind === "equals") return condition;
  const operators = condition.operators.filter(
    ([operator, operand]) => operator !== "$ne" && operator !== "$nin" && !(operator === "$in" && (operand as unknown[]).length > MAX_PUSHED_OPERANDS),
  );
  return { ...condition, operators };
}

/** Newest update first; ties by namespace, then key, so pages are stable. */
function newestFirst(items: StoredItem[]): StoredItem[] {
  return [...items].sort((a, b) => b.updatedAt - a.updatedAt || compareItems(a, b));
}

function compareItems(a: StoredItem, b: StoredItem): number {
  const ns = a.namespace.join("\u0000").localeCompare(b.namespace.join("\u0000"));
  return ns !== 0 ? ns : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((label, i) => label === b[i]);
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}
