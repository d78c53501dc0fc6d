import { randomUUID } from "node:crypto";
import type { Collection, Where } from "chromadb";
import { MAX_ROWS_PER_CALL } from "../chroma_collections.js";
import { expiredItemsWhere } from "../chroma_where.js";
import { upsertRows } from "../chroma_upsert.js";
import type { StoreCollections } from "./collections.js";
import { fromItemRow, genOf, itemGenOf, itemId, NO_EXPIRY, toRows, type ChromaRow, type StoredItem } from "./rows.js";
import type { StoreIndex } from "./store_index.js";
import { unitVector } from "./store_index.js";
import type { StoreValue } from "./validate.js";

/** One validated write: a value to store, or `value: null` to delete. */
export interface WriteRequest {
  namespace: string[];
  key: string;
  value: StoreValue | null;
  index: false | string[] | undefined;
  /** Minutes; null: never expires; undefined: the store's default. */
  ttl: number | null | undefined;
}

/**
 * The write side: puts and deletes, TTL refreshes, sweeping. Everything that can fail before a
 * write (validation, embedding) has happened when these run; within one first label the rows go
 * to Chroma in as few calls as its batch limit allows.
 *
 * Chroma has no transactions and no compare-and-set, and other replicas write the same keys: what
 * a write read of an item before writing may be stale by the time it lands. So a write never
 * decides from that read which extra rows to delete: each put's rows are a generation of their
 * own (rows.ts), and after writing, `settle` deletes the extra rows whose generation is not the
 * item row's as it is now.
 */
export class StoreWriter {
  constructor(
    private readonly collections: StoreCollections,
    private readonly index: StoreIndex | undefined,
    private readonly clock: () => number,
    private readonly defaultTtl: number | undefined,
  ) {}

  async write(requests: readonly WriteRequest[]): Promise<void> {
    // The last write of an item in a batch wins, as in InMemoryStore.
    const latest = new Map<string, WriteRequest>();
    for (const request of requests) latest.set(itemId(request.namespace, request.key), request);
    if (latest.size === 0) return;

    const textsById = new Map<string, string[]>();
    for (const [id, request] of latest) {
      if (request.value !== null && this.index) textsById.set(id, this.index.textsOf(request.value, request.index));
    }
    const vectors = this.index ? await this.index.embedTexts([...textsById.values()].flat()) : new Map<string, number[]>();
    const placeholder = this.index ? await this.index.placeholder() : unitVector(1);

    const byLabel = new Map<string, Array<[string, WriteRequest]>>();
    for (const entry of latest) {
      const label = entry[1].namespace[0]!;
      byLabel.set(label, [...(byLabel.get(label) ?? []), entry]);
    }
    for (const [label, entries] of byLabel) {
      const anyPut = entries.some(([, request]) => request.value !== null);
      const collection = anyPut ? await this.collections.findOrCreate(label) : await this.collections.find(label);
      if (!collection) continue;
      const previous = await this.previousRows(collection, entries.map(([id]) => id));
      const now = this.clock();
      const rows: ChromaRow[] = [];
      // Per row: the filter shadows its item's previous version had and this one lacks.
      const removed = new Map<string, string[]>();
      const deleted: string[] = [];
      const gen = randomUUID();
      for (const [id, request] of entries) {
        const before = previous.get(id);
        if (request.value === null) {
          if (before) deleted.push(id);
          continue;
        }
        const ttl = request.ttl === undefined ? this.defaultTtl ?? null : request.ttl;
        const item: StoredItem = {
          id,
          namespace: request.namespace,
          key: request.key,
          value: request.value,
          // An update keeps the creation time; an expired item that was never swept is gone.
          createdAt: before && before.item.expiresAt > now ? before.item.createdAt : now,
          updatedAt: now,
          expiresAt: ttl === null ? NO_EXPIRY : now + ttl * 60_000,
          ttl,
          gen,
        };
        const own = (textsById.get(id) ?? []).map((text) => vectors.get(text)!);
        const itemRows = toRows(item, own, placeholder);
        // Removed in the upsert itself (a null key, chroma_upsert.ts), never left behind as markers:
        // a row keeps no key a field it no longer has, so rewriting an item with new field names
        // never grows it towards the limit of keys on one Chroma row (validate.ts).
        // Only the item row is rewritten in place: extra rows are new rows of this put (rows.ts).
        for (const row of before ? itemRows.slice(0, 1) : []) {
          const gone = before!.keys.filter((key) => (key.startsWith("v:") || key.startsWith("n:")) && !(key in row.metadata));
          if (gone.length > 0) removed.set(row.id, gone);
        }
        rows.push(...itemRows);
      }
      await this.upsert(collection, rows, removed);
      await this.delete(collection, deleted);
      await this.settle(collection, entries.map(([id]) => id));
    }
  }

  /**
   * Deletes the extra rows of the given items that belong to a dead generation: one that is not
   * the item row's now (or any, when the item row is gone). Safe against every write racing it:
   * it reads the extra rows first and the item rows second, and a put writes its item row before
   * its extra rows, so an extra row seen here was written by a put whose item row had landed
   * before the item rows were read; if that item row is not there now, a later write replaced or
   * deleted it, and a put never writes its generation again. Every write settles after its own
   * rows landed, so whichever write lands last leaves the key with its own rows only.
   */
  private async settle(collection: Collection, ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += MAX_ROWS_PER_CALL) {
      const batch = ids.slice(start, start + MAX_ROWS_PER_CALL);
      const extra: Array<{ id: string; owner: string; gen: string }> = [];
      const where: Where = batch.length === 1 ? { _item: { $eq: batch[0]! } } : { _item: { $in: batch } };
      for (let offset = 0; ; offset += MAX_ROWS_PER_CALL) {
        const page = await this.collections.call("get", () =>
          collection.get({ where, limit: MAX_ROWS_PER_CALL, offset, include: ["metadatas"] as never }),
        );
        page.ids.forEach((id, i) => {
          const metadata = page.metadatas[i] ?? null;
          if (typeof metadata?._item === "string") extra.push({ id, owner: metadata._item, gen: genOf(metadata) });
        });
        if (page.ids.length < MAX_ROWS_PER_CALL) break;
      }
      if (extra.length === 0) continue;
      const owners = [...new Set(extra.map((row) => row.owner))];
      const items = await this.collections.call("get", () => collection.get({ ids: owners, include: ["metadatas"] as never }));
      const live = new Map<string, string>();
      items.ids.forEach((id, i) => {
        if (items.metadatas[i]?._row === "item") live.set(id, itemGenOf(items.metadatas[i] ?? null));
      });
      await this.delete(collection, extra.filter((row) => live.get(row.owner) !== row.gen).map((row) => row.id));
    }
  }

  /** Restarts the TTL of items just read. */
  async refresh(items: readonly StoredItem[]): Promise<void> {
    const now = this.clock();
    const byLabel = new Map<string, StoredItem[]>();
    for (const item of items) {
      if (item.ttl === null) continue;
      const label = item.namespace[0]!;
      byLabel.set(label, [...(byLabel.get(label) ?? []), item]);
    }
    for (const [label, group] of byLabel) {
      const collection = await this.collections.find(label);
      if (!collection) continue;
      const unique = [...new Map(group.map((item) => [item.id, item])).values()];
      for (let start = 0; start < unique.length; start += MAX_ROWS_PER_CALL) {
        const batch = unique.slice(start, start + MAX_ROWS_PER_CALL);
        await this.collections.call("update", () =>
          collection.update({ ids: batch.map((item) => item.id), metadatas: batch.map((item) => ({ _expires: now + item.ttl! * 60_000 })) }),
        );
      }
    }
  }

  /**
   * Deletes the rows of the given items (the sweep's expired items) and returns how many went. An
   * item row goes only if it is still expired when the delete runs (Chroma applies the `where`
   * with the ids): a put since the sweep read it, by another replica or call, started a new life
   * that must not be deleted. Extra rows go with the item rows that went (settle).
   */
  async deleteItems(collection: Collection, items: readonly StoredItem[]): Promise<number> {
    const ids = items.map((item) => item.id);
    const where = expiredItemsWhere(this.clock());
    const left = new Set<string>();
    for (let start = 0; start < ids.length; start += MAX_ROWS_PER_CALL) {
      const batch = ids.slice(start, start + MAX_ROWS_PER_CALL);
      await this.collections.call("delete", () => collection.delete({ ids: batch, where }));
      const kept = await this.collections.call("get", () => collection.get({ ids: batch, include: [] as never }));
      kept.ids.forEach((id) => left.add(id));
    }
    await this.settle(collection, ids);
    return items.filter((item) => !left.has(item.id)).length;
  }

  private async previousRows(collection: Collection, ids: string[]): Promise<Map<string, { item: StoredItem; keys: string[] }>> {
    const rows = await this.collections.call("get", () => collection.get({ ids, include: ["documents", "metadatas"] as never }));
    const previous = new Map<string, { item: StoredItem; keys: string[] }>();
    rows.ids.forEach((id, i) => {
      const metadata = rows.metadatas[i] ?? null;
      const item = fromItemRow(id, rows.documents[i] ?? null, metadata);
      if (item) previous.set(id, { item, keys: Object.keys(metadata ?? {}) });
    });
    return previous;
  }

  private async upsert(collection: Collection, rows: ChromaRow[], removed: ReadonlyMap<string, string[]>): Promise<void> {
    for (const batch of upsertCalls(rows)) {
      // upsertRows packs the vectors with Buffer (the client's own packing costs 0.14 ms a vector).
      await this.collections.call("upsert", () =>
        upsertRows(collection, {
          ids: batch.map((row) => row.id),
          embeddings: batch.map((row) => row.embedding),
          documents: batch.map((row) => row.document),
          metadatas: batch.map((row) => row.metadata),
          removed: batch.map((row) => removed.get(row.id)),
        }),
      );
    }
  }

  private async delete(collection: Collection, ids: string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += MAX_ROWS_PER_CALL) {
      const batch = ids.slice(start, start + MAX_ROWS_PER_CALL);
      await this.collections.call("delete", () => collection.delete({ ids: batch }));
    }
  }
}

/**
 * What one upsert call may carry, in bytes of its request: Chroma's server refuses a request body
 * over 40 MiB (413 Payload Too Large), so a batch of many large values (a thousand 50 kB documents)
 * is sent in several calls. One row alone is never over: a value is at most MAX_VALUE_BYTES
 * (validate.ts).
 */
const MAX_UPSERT_BYTES = 16 * 1024 * 1024;

/**
 * The rows in calls of at most MAX_ROWS_PER_CALL rows and MAX_UPSERT_BYTES, in order (an item
 * row stays before its extra rows: rows.ts).
 */
export function upsertCalls(rows: readonly ChromaRow[]): ChromaRow[][] {
  const calls: ChromaRow[][] = [];
  let current: ChromaRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = rowBytes(row);
    if (current.length > 0 && (current.length >= MAX_ROWS_PER_CALL || bytes + size > MAX_UPSERT_BYTES)) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/**
 * A row's share of an upsert request: its JSON-escaped document, metadata and id, and its vector
 * as the client's own path sends it (JSON numbers, up to 24 characters each; packed it is less).
 */
function rowBytes(row: ChromaRow): number {
  return Buffer.byteLength(JSON.stringify(row.document)) + Buffer.byteLength(JSON.stringify(row.metadata)) + row.id.length + row.embedding.length * 24 + 64;
}
