import type { Metadata as ChromaMetadata } from "chromadb";
import { deterministicId } from "../../core/ids.js";
import { shadowMetadata } from "./shadows.js";
import type { StoreValue } from "./validate.js";

/**
 * The Chroma rows of one store item. An item is one "item" row: its id derives from namespace and
 * key, its document is the value as JSON, its metadata holds the namespace, key, times, TTL and
 * the filter shadows, and its vector is the first embedded text. Each further embedded text (a
 * value with several indexed fields) is one "vec" row carrying the same namespace and shadows, so
 * a filtered query sees it too, and pointing back to the item. An item with nothing embedded gets
 * a constant placeholder vector and `_vec: false`, which every query excludes.
 *
 * System keys start with "_"; value fields only ever appear as `v:` / `n:` shadows, so no value
 * can collide with them.
 */

/** "Never expires", as an expiry time: the last millisecond a JS Date can hold. */
export const NO_EXPIRY = 8_640_000_000_000_000;

export interface StoredItem {
  id: string;
  namespace: string[];
  key: string;
  value: StoreValue;
  createdAt: number;
  updatedAt: number;
  /** Milliseconds since the epoch, or NO_EXPIRY. */
  expiresAt: number;
  /** Minutes, restarted on read; null when the item does not expire. */
  ttl: number | null;
  /** The put that wrote this version ("" for rows written before generations existed). */
  gen: string;
}

export interface ChromaRow {
  id: string;
  embedding: number[];
  document: string;
  metadata: ChromaMetadata;
}

export function itemId(namespace: readonly string[], key: string): string {
  return deterministicId("engram-store", JSON.stringify(namespace), key);
}

/** The id of an extra ("vec") row: item, generation and position, so no two puts share one. */
export function extraRowId(id: string, gen: string, index: number): string {
  return `${id}:${gen}:${index}`;
}

/** The generation an extra row was written by: "" for rows written before generations existed. */
export function genOf(metadata: ChromaMetadata | null): string {
  return typeof metadata?._gen === "string" ? metadata._gen : "";
}

/**
 * What an item row written by this version has in `_extra`, where earlier versions count its
 * extra rows (0 or more). During a rolling upgrade a replica of an earlier version may put over
 * an item this version wrote: Chroma merges the metadata, so its row keeps this version's `_gen`
 * while its extra rows have none. Its `_extra` tells: a row whose `_extra` is not this mark was
 * last written by an earlier version, and its generation is "" (its own extra rows count, and
 * this version's ones of the replaced value are dead).
 */
const GENERATION_MARK = -1;

/** The generation of the value an item row holds now ("" when an earlier version wrote it). */
export function itemGenOf(metadata: ChromaMetadata | null): string {
  return metadata?._extra === GENERATION_MARK ? genOf(metadata) : "";
}

/**
 * The rows of an item. `vectors` are its embedded texts' vectors (maybe none); `placeholder` is
 * used as the item row's vector when there are none (Chroma wants a vector on every row); the
 * item row comes first, so a write split over several calls lands it before its vec rows.
 * `previousKeys`: the metadata keys of the item's row before this write, if it had one.
 */
export function toRows(item: StoredItem, vectors: number[][], placeholder: number[], previousKeys: Iterable<string> = []): ChromaRow[] {
  const shared: ChromaMetadata = { ...namespaceMetadata(item.namespace), ...shadowMetadata(item.value, previousKeys) };
  const rows: ChromaRow[] = [
    {
      id: item.id,
      embedding: vectors[0] ?? placeholder,
      document: JSON.stringify(item.value),
      metadata: {
        ...shared,
        _row: "item",
        _vec: vectors.length > 0,
        _key: item.key,
        _ns: JSON.stringify(item.namespace),
        _created: item.createdAt,
        _updated: item.updatedAt,
        _expires: item.expiresAt,
        _ttl: item.ttl ?? 0,
        _gen: item.gen,
        _extra: GENERATION_MARK,
      },
    },
  ];
  vectors.slice(1).forEach((embedding, i) => {
    rows.push({
      id: extraRowId(item.id, item.gen, i + 1),
      embedding,
      document: "",
      metadata: { ...shared, _row: "vec", _vec: true, _item: item.id, _gen: item.gen },
    });
  });
  return rows;
}

/** Reads an item row back; undefined when the row is not an item row of this store. */
export function fromItemRow(id: string, document: string | null, metadata: ChromaMetadata | null): StoredItem | undefined {
  const meta = metadata ?? {};
  if (meta._row !== "item" || typeof meta._ns !== "string" || typeof meta._key !== "string" || document === null) return undefined;
  const ttl = typeof meta._ttl === "number" && meta._ttl > 0 ? meta._ttl : null;
  return {
    id,
    namespace: JSON.parse(meta._ns) as string[],
    key: meta._key,
    value: JSON.parse(document) as StoreValue,
    createdAt: Number(meta._created ?? 0),
    updatedAt: Number(meta._updated ?? meta._created ?? 0),
    expiresAt: expiryOf(meta),
    ttl,
    gen: itemGenOf(meta),
  };
}

/**
 * When an item row expires. A put sets `_expires` to `_updated + _ttl`; a read's TTL refresh
 * (writer.ts) then moves `_expires` only, computed from the TTL of the version it read. Chroma has
 * no compare-and-set, so that refresh may land after a put of a newer version by another process
 * or call: taking the later of the two, and no expiry at all without a TTL, keeps such a late
 * refresh from cutting a put short (a put with `ttl: null` expiring, say).
 */
export function expiryOf(meta: ChromaMetadata): number {
  const ttl = typeof meta._ttl === "number" && meta._ttl > 0 ? meta._ttl : null;
  if (ttl === null) return NO_EXPIRY;
  const refreshed = typeof meta._expires === "number" ? meta._expires : NO_EXPIRY;
  return Math.max(refreshed, Number(meta._updated ?? meta._created ?? 0) + ttl * 60_000);
}

/** The item a row belongs to: itself for an item row, `_item` for a vec row. */
export function ownerId(id: string, metadata: ChromaMetadata | null): string {
  return typeof metadata?._item === "string" ? metadata._item : id;
}

/** `_ns0`, `_ns1`, ...: one key per label, so a namespace prefix is an `$eq` per label. */
function namespaceMetadata(namespace: readonly string[]): ChromaMetadata {
  const metadata: ChromaMetadata = { _depth: namespace.length };
  namespace.forEach((label, i) => {
    metadata[`_ns${i}`] = label;
  });
  return metadata;
}

export function startsWith(namespace: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= namespace.length && prefix.every((label, i) => namespace[i] === label);
}
