import type { Collection, Metadata } from "chromadb";

/*
 * One upsert call to Chroma with the vectors packed as base64 float32 by Node's Buffer. The chromadb
 * client (3.5) packs them too when the server takes base64 (Chroma 1.0 does), but byte by byte
 * through strings (`Array.from(bytes, String.fromCharCode).join("")`, then `btoa`): 0.14 ms of CPU
 * per 512-d vector, a fifth of this process's CPU in a bulk import (a CPU profile of 10k records:
 * 1.4 s). Same bytes on the wire (little-endian float32, as the client's Float32Array), same
 * request, same errors (the client's own HTTP layer sends it). When the client's internals are not
 * as expected (another chromadb version), the server does not take base64, or the call is one the
 * client would refuse (ids repeated), the client's own `upsert` runs instead.
 *
 * Chroma merges an upsert's metadata into the stored row's: a key left out stays. A key sent as
 * null is removed (Chroma 1.0's server, checked by memory/replaced_metadata.int.test.ts), in the same
 * call that writes the rest, so no reader ever finds the row missing; the client leaves nulls out,
 * so on its path a row with keys to remove is deleted first and then written whole.
 */

/** The rows of one upsert call. */
export interface UpsertRows {
  ids: string[];
  embeddings: ReadonlyArray<ArrayLike<number>>;
  documents: string[];
  metadatas: Metadata[];
  /**
   * Keys to remove from each row's stored metadata (by index; absent: none), keys the new metadata
   * no longer has. @default none
   */
  removed?: ReadonlyArray<readonly string[] | undefined>;
}

/** The parts of chromadb's collection class this relies on (not in its public types). */
interface CollectionInternals {
  apiClient?: { post?: (options: Record<string, unknown>) => Promise<unknown> };
  chromaClient?: { supportsBase64Encoding?: () => Promise<boolean> };
  path?: () => Promise<Record<string, string>>;
}

/** The client's own route and security scheme for an upsert (chromadb's RecordService.collectionUpsert). */
const UPSERT_URL = "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/upsert";
const SECURITY = [{ name: "x-chroma-token", type: "apiKey" }];

export async function upsertRows(collection: Collection, rows: UpsertRows): Promise<void> {
  const internals = collection as unknown as CollectionInternals;
  const api = internals.apiClient;
  const packable =
    typeof api?.post === "function" &&
    typeof internals.path === "function" &&
    typeof internals.chromaClient?.supportsBase64Encoding === "function" &&
    new Set(rows.ids).size === rows.ids.length &&
    (await internals.chromaClient.supportsBase64Encoding());
  if (!packable) {
    const stale = rows.ids.filter((_, i) => (rows.removed?.[i]?.length ?? 0) > 0);
    if (stale.length > 0) await collection.delete({ ids: stale });
    await collection.upsert({ ids: rows.ids, embeddings: rows.embeddings.map((vector) => Array.from(vector)), documents: rows.documents, metadatas: rows.metadatas });
    return;
  }
  await api.post!({
    security: SECURITY,
    url: UPSERT_URL,
    path: await internals.path!(),
    body: { ids: rows.ids, embeddings: packBase64(rows.embeddings), documents: rows.documents, metadatas: rows.metadatas.map((metadata, i) => withRemoved(withoutEmpty(metadata), rows.removed?.[i])) },
    headers: { "Content-Type": "application/json" },
  });
}

/** Each vector as base64 of its float32 bytes (little-endian on every platform Node runs Chroma on). */
export function packBase64(vectors: ReadonlyArray<ArrayLike<number>>): string[] {
  const dims = vectors[0]?.length ?? 0;
  const all = new Float32Array(vectors.length * dims);
  const bytes = Buffer.from(all.buffer);
  return vectors.map((vector, i) => {
    if (vector.length !== dims) return Buffer.from(Float32Array.from(vector).buffer).toString("base64");
    all.set(vector, i * dims);
    return bytes.subarray(i * dims * 4, (i + 1) * dims * 4).toString("base64");
  });
}

/** `metadata` with each of `keys` it does not have set to null: the server removes those from the stored row. */
function withRemoved(metadata: Metadata, keys: readonly string[] | undefined): Metadata {
  if (keys === undefined || keys.length === 0) return metadata;
  const row: Metadata = { ...metadata };
  for (const key of keys) if (!(key in row)) row[key] = null;
  return row;
}

/** As the client sends metadata: keys with null or undefined values left out. */
function withoutEmpty(metadata: Metadata): Metadata {
  for (const value of Object.values(metadata)) {
    if (value === null || value === undefined) return Object.fromEntries(Object.entries(metadata).filter(([, v]) => v !== null && v !== undefined)) as Metadata;
  }
  return metadata;
}
