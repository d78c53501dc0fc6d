/**
 * `engram reembed`: moves a data folder's vectors to another embedding model, in place and
 * resumable.
 */
import { join, resolve } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { ChromaClient, Collection } from "chromadb";
import { EngramError } from "../core/errors.js";
import { validatePrefix } from "../core/scope.js";
import { embeddingsIdentity } from "../embeddings/identity.js";
import { ChromaConnection, type ChromaConnectionOptions } from "../store/connection.js";
import { NEW_COLLECTION_SETTINGS } from "../store/chroma_collections.js";
import { collectionsStartingWith } from "../store/list_collections.js";
import { MODEL_KEY, readStoreModel, recordStoreModel, REEMBED_PENDING } from "../store/model_marker.js";
import { isNotFound } from "../store/not_found.js";
import { storeMarkerName } from "../store/langgraph/model_check.js";
import { revisionLogNameOf } from "../store/revision_log.js";
import { embedAll, syncCopy, type SyncStep } from "./reembed_copy.js";
import { DIMENSIONS_KEY, recordedSize } from "./model_guard.js";
import { takeReembedLock } from "./reembed_lock.js";
import { openState, type StateOption } from "../state/open.js";
import type { OutboxState, StateBackend } from "../state/types.js";
import { describeValue } from "../core/describe.js";

/** Options for {@link reembed}. */
export interface ReembedOptions {
  /** The data folder to move. @default ".engram" */
  dataDir?: string;
  /** Where its shared state lives, as for `Memory`. @default SQLite in the data folder */
  state?: StateOption;
  /** Where its records live, as for `Memory`. @default { path: "<dataDir>/chroma" } (the local server) */
  chroma?: ChromaConnectionOptions;
  /** Collection name prefix, as for `Memory`. @default "engram" */
  prefix?: string;
  /** The model to move to (what the folder is opened with afterwards). */
  embeddings: EmbeddingsInterface;
  /**
   * Records embedded and written per step; a crash loses at most one step.
   * @default 256
   */
  batchSize?: number;
  /** Told after every step: records done (this run and earlier ones) out of the total. */
  onProgress?: (progress: ReembedProgress) => void;
}

export interface ReembedProgress {
  done: number;
  total: number;
}

export interface ReembedResult {
  /** The model recorded before (undefined for an unmarked folder). */
  from?: string;
  /** The model recorded now. */
  to: string;
  /** Records re-embedded in this run (a resumed run skips what an earlier run finished). */
  reembedded: number;
  /** Records in the folder's collections. */
  total: number;
  /** User collections moved. */
  collections: number;
  /** Queued writes (outbox) whose vector was dropped, to be embedded with the new model when drained. */
  queued: number;
  /**
   * The LangGraph store (`EngramStore`) under the same prefix, left as it was: its collections of
   * items and the model its marker records. Its items keep their values, not the texts its index
   * embedded (a put may name its own fields), so they cannot be re-embedded from what is stored;
   * the store keeps working with its own model (docs/embeddings.md says how to move it).
   */
  store: { collections: number; model?: string };
}

/** Suffix of the collection a user's records are copied into before it replaces theirs. */
const COPY_SUFFIX = "-reembed";

/** Suffix of a copy once complete, before it replaces the original. */
const DONE_SUFFIX = "-reembedded";

/** Metadata of a copy: the id of the collection it copies. */
const COPY_OF = "engram_reembed_of";

/** Metadata of a copy: the model it is embedded with (kept once it replaced the original). */
const COPY_TO = "engram_reembed_to";

/**
 * Re-embeds every memory of a data folder with another model, in place, and records that model
 * (docs/embeddings.md). Run it with the applications that use the folder stopped.
 *
 * Each user collection is copied, with new vectors, into a sibling collection that then replaces it
 * (so a model with another vector size works too). The folder is marked "re-embedding" first, so
 * no `Memory` opens it half-moved, with either model; after a crash, running it again with the
 * same model skips what was copied and finishes. Writes still queued in the outbox lose their
 * vector and are embedded with the new model when drained.
 */
export async function reembed(options: ReembedOptions): Promise<ReembedResult> {
  const dataDir = resolve(options.dataDir ?? ".engram");
  const prefix = validatePrefix(options.prefix ?? "engram");
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5_000) {
    throw new EngramError("INVALID_OPTIONS", `batchSize must be a whole number from 1 to 5000, got ${describeValue(options.batchSize)}.`);
  }
  const target = embeddingsIdentity(options.embeddings);
  // Before anything is read or written: a second run at once would swap collections under the first.
  const lock = await takeReembedLock(dataDir);
  try {
    return await moveFolder(options, dataDir, prefix, batchSize, target);
  } finally {
    await lock.release();
  }
}

/** {@link reembed}, holding the folder's lock. */
async function moveFolder(options: ReembedOptions, dataDir: string, prefix: string, batchSize: number, target: string): Promise<ReembedResult> {
  const pending = `${REEMBED_PENDING}${target}`;
  const opened = openState(options.state, { dataDir });
  const state = opened.state;
  const connection = new ChromaConnection(options.chroma ?? {}, join(dataDir, "chroma"));
  try {
    await state.setup();
    const client = await connection.client();
    const folderBefore = await state.meta.get(MODEL_KEY);
    const storeBefore = await readStoreModel(client, prefix);
    const from = [folderBefore, storeBefore].find((id) => id !== undefined && !id.startsWith(REEMBED_PENDING));
    // Copies left by an unfinished run towards another model hold that model's vectors: start over.
    const resuming = folderBefore === pending || storeBefore === pending;
    const collections = await userCollections(client, prefix);
    if (!resuming && from === target) await refuseResizedUnderOneId(state, collections.bases, options.embeddings, target, dataDir);
    if (!resuming) {
      for (const [name, copy] of collections.copies) {
        if (collections.bases.has(name) || erasedWhileCopied(copy)) {
          await dropCopy(client, copy);
        } else {
          // A complete copy whose original is deleted holds the user's only records (of the
          // unfinished run's model): it becomes the original, re-embedded from there.
          await copy.modify({ name });
          collections.bases.set(name, copy);
        }
      }
      collections.copies.clear();
    }

    // From here until the end, neither model may open the folder.
    await state.meta.set(MODEL_KEY, pending, { replace: true });
    await recordStoreModel(client, prefix, pending, { replace: true });
    const queued = await dropQueuedVectors(state);

    // Another data folder on the same server moved the collections already: only this folder's
    // marker and queue are left to move.
    const storeDone = storeBefore === target && collections.copies.size === 0;
    const names = storeDone ? [] : [...new Set([...collections.bases.keys(), ...collections.copies.keys()])].sort();
    let total = 0;
    for (const name of names) total += await (collections.bases.get(name) ?? collections.copies.get(name))!.count();
    let done = 0;
    let reembedded = 0;
    options.onProgress?.({ done, total });
    for (const name of names) {
      const base = collections.bases.get(name);
      let copy = collections.copies.get(name);
      if (base && !copy && resuming && base.metadata?.[COPY_TO] === target) {
        // Swapped in by the run this one resumes (killed before the folder's marker changed): its
        // records hold the target's vectors already.
        done += await base.count();
        options.onProgress?.({ done: Math.min(done, total), total });
        await resetRevisions(client, prefix, name);
        await state.revisions.clear();
        continue;
      }
      if (base) {
        copy ??= await client.createCollection({
          name: name + COPY_SUFFIX,
          embeddingFunction: null,
          metadata: { engram: 1, ...base.metadata, ...NEW_COLLECTION_SETTINGS, [COPY_OF]: base.id, [COPY_TO]: target },
        });
        // A copy made from this very collection may drop what the collection no longer holds; a
        // copy of an earlier one (the records collection was made again since) only gains.
        const sameBase = copy.metadata?.[COPY_OF] === base.id;
        const step = (progress: SyncStep): void => {
          total += progress.found ?? 0;
          done += (progress.kept ?? 0) + (progress.moved ?? 0);
          reembedded += progress.moved ?? 0;
          options.onProgress?.({ done: Math.min(done, total), total });
        };
        const synced = await syncCopy(base, copy, options.embeddings, batchSize, sameBase, step);
        // The copy is complete: it is renamed as such, then replaces the original (a crash between
        // these steps leaves only the complete copy, which the next run renames).
        const erased = synced === "erased" || !(await markComplete(copy, name).then(() => dropOriginal(client, name)));
        if (erased) {
          // The user was erased (deleteAll) while being copied: the copy must not bring them back.
          await dropCopy(client, copy);
          await resetRevisions(client, prefix, name);
          continue;
        }
      } else if (erasedWhileCopied(copy!)) {
        // A copy never completed whose original is gone: the user was erased since (an unfinished
        // run's copy is completed before its original is deleted).
        await dropCopy(client, copy!);
        await resetRevisions(client, prefix, name);
        continue;
      } else {
        done += await copy!.count();
        options.onProgress?.({ done, total });
      }
      await copy!.modify({ name });
      await resetRevisions(client, prefix, name);
      // And every user's revision in the state (it names users, not collections): running
      // instances reload each user on their next search (memory/gated_store.ts).
      await state.revisions.clear();
    }
    await state.meta.set(MODEL_KEY, target, { replace: true });
    await recordStoreModel(client, prefix, target, { replace: true });
    const store = await storeLeftAsItWas(client, prefix);
    return { ...(from === undefined ? {} : { from }), to: target, reembedded, total, collections: names.length, queued, store };
  } catch (error) {
    if (error instanceof EngramError) throw error;
    throw new EngramError("STORE_ERROR", `Re-embedding ${dataDir} failed: ${(error as Error)?.message ?? error}. Run it again to resume.`, {
      cause: error,
    });
  } finally {
    await connection.close();
    if (opened.owned) await state.close();
  }
}

/**
 * A folder whose model id is the target's has nothing to move (another folder on the server moved
 * the collections, or the run is repeated), unless the model changed its vector size under the
 * same id (a custom class without `modelId`, OpenAI's `dimensions` changed): that moved nothing
 * and recorded nothing, silently, and every later call of the folder failed with
 * `EMBEDDINGS_MISMATCH`. It is refused here, before anything is written. Moving it instead would
 * leave two vector spaces under one name: the id is what tells them apart everywhere (the folder's
 * and the server's markers, a copy's target that a resumed run trusts, other folders on the
 * server, EngramStore's marker), so neither a resumed run nor another application could tell old
 * vectors from new.
 * @throws EngramError `EMBEDDINGS_MISMATCH` naming both sizes and asking for a new `modelId`
 */
async function refuseResizedUnderOneId(
  state: StateBackend,
  bases: ReadonlyMap<string, Collection>,
  embeddings: EmbeddingsInterface,
  modelId: string,
  dataDir: string,
): Promise<void> {
  const stored = (await storedSize(bases)) ?? recordedSize(await state.meta.get(DIMENSIONS_KEY), modelId);
  if (stored === undefined) return;
  const [vector] = await embedAll(embeddings, ["Engram measures the size of this model's vectors."]);
  if (vector!.length === stored) return;
  throw new EngramError(
    "EMBEDDINGS_MISMATCH",
    `The data folder ${dataDir} holds vectors of ${stored} dimensions of the embedding model "${modelId}", and the model given to reembed answers ` +
      `${vector!.length} dimensions under the same id. A model's id names its vectors: give the new model its own id (a \`modelId\` property, ` +
      `e.g. "${modelId}@${vector!.length}") and run reembed again. Nothing was changed.`,
    { details: { modelId, stored, dimensions: vector!.length, dataDir } },
  );
}

/** The size of a vector stored in the first of these collections that holds one. */
async function storedSize(bases: ReadonlyMap<string, Collection>): Promise<number | undefined> {
  for (const collection of bases.values()) {
    const { embeddings } = await collection.get({ limit: 1, include: ["embeddings"] as never });
    const size = embeddings?.[0]?.length;
    if (size !== undefined && size > 0) return size;
  }
  return undefined;
}

/**
 * After a user's records were replaced, their revision log is dropped, as an erase does: a log
 * made afterwards has another id, so every running instance that kept an index of the old vectors
 * reloads the user on its next search (memory/gated_store.ts) and, finding its collections
 * replaced, checks the model marker again (memory/model_guard.ts). Safe to repeat on a resumed run.
 */
async function resetRevisions(client: ChromaClient, prefix: string, recordsCollection: string): Promise<void> {
  try {
    await client.deleteCollection({ name: revisionLogNameOf(prefix, recordsCollection) });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Renames a copy as complete (before its original is deleted: see {@link erasedWhileCopied}). */
async function markComplete(copy: Collection, name: string): Promise<void> {
  if (copy.name !== name + DONE_SUFFIX) await copy.modify({ name: name + DONE_SUFFIX });
}

/** Deletes the original collection; false when it was gone already (the user was erased meanwhile). */
async function dropOriginal(client: ChromaClient, name: string): Promise<boolean> {
  try {
    await client.deleteCollection({ name });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function dropCopy(client: ChromaClient, copy: Collection): Promise<void> {
  try {
    await client.deleteCollection({ name: copy.name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * A copy found without its original that this release started (it names the collection it
 * copies) and never completed: its original was erased. (A copy from an earlier release, which
 * named nothing, is renamed as before.)
 */
function erasedWhileCopied(copy: Collection): boolean {
  return !copy.name.endsWith(DONE_SUFFIX) && typeof copy.metadata?.[COPY_OF] === "string";
}

/** The prefix's user collections by name, and the copies an unfinished run left, by the name they replace. */
async function userCollections(client: ChromaClient, prefix: string): Promise<{ bases: Map<string, Collection>; copies: Map<string, Collection> }> {
  const bases = new Map<string, Collection>();
  const copies = new Map<string, Collection>();
  for await (const collection of collectionsStartingWith(client, `${prefix}-u-`)) {
    if (collection.name.endsWith(COPY_SUFFIX)) copies.set(collection.name.slice(0, -COPY_SUFFIX.length), collection);
    else if (collection.name.endsWith(DONE_SUFFIX)) copies.set(collection.name.slice(0, -DONE_SUFFIX.length), collection);
    else bases.set(collection.name, collection);
  }
  return { bases, copies };
}

/** The LangGraph store's item collections under the prefix (store/langgraph/collections.ts) and its recorded model. */
async function storeLeftAsItWas(client: ChromaClient, prefix: string): Promise<ReembedResult["store"]> {
  let collections = 0;
  for await (const collection of collectionsStartingWith(client, `${prefix}-ns-`)) if (collection.metadata?.engramStore === 1) collections += 1;
  const model = collections === 0 ? undefined : await readStoreModel(client, storeMarkerName(prefix));
  return { collections, ...(model === undefined ? {} : { model }) };
}

/**
 * Writes still queued hold vectors of the old model: the vector is dropped, and the drain embeds
 * the record with the folder's model then (as for a write queued by `writes: "background"`).
 */
async function dropQueuedVectors(state: StateBackend): Promise<number> {
  const outbox: OutboxState<{ op?: string; embedding?: unknown }> = state.outbox();
  const writes = await outbox.pending();
  let changed = 0;
  for (const write of writes) {
    if (write.payload.op !== "upsert" || write.payload.embedding === undefined) continue;
    delete write.payload.embedding;
    changed += 1;
  }
  // Every queued write is queued again, in its order, in one transaction (a replaced write moves to
  // the back of the queue, so re-queueing only the changed ones could reorder an upsert and a delete).
  if (changed > 0) await outbox.enqueue(writes.map((write) => ({ userId: write.userId, key: write.key, payload: write.payload })));
  return changed;
}
