/**
 * `engram reembed`'s copy of one user's collection (memory/reembed.ts moves the folder): the
 * records copied with the new model's vectors, kept level with the original while applications
 * still write it, until a pass finds nothing left to do.
 */
import { createHash } from "node:crypto";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { Collection } from "chromadb";
import { checkVectors, embeddingFailure } from "../embeddings/vectors.js";
import { EngramError } from "../core/errors.js";
import { rowText, STORED_DOCUMENT, TEXT_KEY } from "../store/chroma_records.js";
import { upsertRows } from "../store/chroma_upsert.js";
import { isNotFound } from "../store/not_found.js";

/**
 * Passes of {@link syncCopy} before giving up: each pass re-embeds only what changed in the user's
 * collection since the last one, so only writes that never pause can exhaust them.
 */
const SYNC_PASSES = 20;

/**
 * Brings `copy` level with `base` (re-embedding what is missing or differs, and, when `dropExtra`,
 * deleting what `base` no longer holds), then checks again, until a pass finds nothing to do. So a
 * write an application made on the user's collection while it was being copied (an add, an
 * update, a delete) is in the copy when it replaces the collection, instead of being lost or
 * undone by the swap. `step` is told of what needs no work, of records moved, and of new work found.
 */
export async function syncCopy(
  base: Collection,
  copy: Collection,
  embeddings: EmbeddingsInterface,
  batchSize: number,
  dropExtra: boolean,
  step: (progress: SyncStep) => void,
): Promise<"synced" | "erased"> {
  for (let pass = 0; pass < SYNC_PASSES; pass += 1) {
    const source = await fingerprints(base, true);
    if (source === "erased") return "erased";
    const copied = await fingerprints(copy, false);
    if (copied === "erased") throw new Error(`the copy ${copy.name} is gone (another run of reembed?)`);
    const todo = [...source].filter(([id, print]) => copied.get(id) !== print).map(([id]) => id);
    const extra = dropExtra ? [...copied.keys()].filter((id) => !source.has(id)) : [];
    if (pass === 0) step({ kept: source.size - todo.length });
    else if (todo.length > 0) step({ found: todo.length });
    if (todo.length === 0 && extra.length === 0) return "synced";
    // Rows that changed are dropped first: an upsert merges metadata, and would keep keys the
    // update removed. A crash in between leaves them missing from the copy, which the next run fills.
    const stale = [...extra, ...todo.filter((id) => copied.has(id))];
    for (let start = 0; start < stale.length; start += batchSize) await copy.delete({ ids: stale.slice(start, start + batchSize) });
    for (let start = 0; start < todo.length; start += batchSize) {
      const rows = await readRows(base, todo.slice(start, start + batchSize));
      if (rows === "erased") return "erased";
      if (rows.ids.length === 0) continue; // deleted meanwhile: the next pass sees it
      // Rows keep their text in the document or, since it moved, in the metadata (store/chroma_records.ts);
      // the copy is written in the current layout: the text in the metadata, the document empty.
      const texts = rows.ids.map((_, i) => rowText(rows.documents[i], rows.metadatas[i]));
      const vectors = await embedAll(embeddings, texts);
      await upsertRows(copy, {
        ids: rows.ids,
        embeddings: vectors,
        documents: rows.ids.map(() => STORED_DOCUMENT),
        metadatas: rows.metadatas.map((m, i) => ({ ...(m ?? {}), [TEXT_KEY]: texts[i]! })),
      });
      step({ moved: rows.ids.length });
    }
  }
  throw new EngramError(
    "STORE_ERROR",
    `The collection ${base.name} kept changing while it was re-embedded: stop the applications that write this data folder, then run it again (it resumes).`,
  );
}

/** What {@link syncCopy} reports: records already in the copy, records moved, records found changed by a later pass. */
export interface SyncStep {
  kept?: number;
  moved?: number;
  found?: number;
}

/** Rows of the original; "erased" when the collection is gone (a deleteAll dropped it). */
async function readRows(base: Collection, ids: string[]): Promise<Awaited<ReturnType<Collection["get"]>> | "erased"> {
  try {
    return await base.get({ ids, include: ["documents", "metadatas"] as never });
  } catch (error) {
    if (isNotFound(error)) return "erased";
    throw error;
  }
}

/** Every record of a collection, as a digest of its metadata and text (what a copy must hold), paged; "erased" when it is gone. */
async function fingerprints(collection: Collection, source: boolean): Promise<Map<string, string> | "erased"> {
  const prints = new Map<string, string>();
  const page = 1_000;
  for (let offset = 0; ; offset += page) {
    let result: Awaited<ReturnType<Collection["get"]>>;
    try {
      result = await collection.get({ limit: page, offset, include: (source ? ["documents", "metadatas"] : ["metadatas"]) as never });
    } catch (error) {
      if (isNotFound(error)) return "erased";
      throw error;
    }
    result.ids.forEach((id, i) => {
      const metadata: Record<string, unknown> = { ...(result.metadatas[i] ?? {}) };
      if (source) metadata[TEXT_KEY] = rowText(result.documents[i], result.metadatas[i]);
      const sorted = Object.keys(metadata)
        .sort()
        .map((key) => [key, metadata[key]]);
      prints.set(id, createHash("sha256").update(JSON.stringify(sorted)).digest("base64"));
    });
    if (result.ids.length < page) return prints;
  }
}

export async function embedAll(embeddings: EmbeddingsInterface, texts: string[]): Promise<number[][]> {
  try {
    // As Memory's (embeddings/vectors.ts): a NaN, empty, zero or odd-sized answer is refused, not copied into every user's collection.
    return checkVectors(await embeddings.embedDocuments(texts), texts.length);
  } catch (cause) {
    throw embeddingFailure(cause);
  }
}
