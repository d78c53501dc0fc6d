import type { ChromaClient } from "chromadb";
import { collectionsStartingWith } from "./list_collections.js";
import { isNotFound } from "./not_found.js";

/**
 * Where a data folder, or a Chroma server shared by several folders, records which embedding model
 * wrote its vectors (docs/embeddings.md): the key `embeddings` of the state's metadata (a row of
 * `engram_meta` in `engram.sqlite` for SQLite state), and the metadata of one marker collection
 * per prefix on the Chroma server. The first model recorded wins a race between two processes:
 * it is recorded by creating the marker collection with the model in its metadata, and the
 * server creates a collection once (a second create returns the first, its metadata unchanged).
 * Only `engram reembed` replaces it (`replace: true`).
 */

/** The key of the state's metadata (`MetaState`) that names the folder's model. */
export const MODEL_KEY = "embeddings";

/**
 * Recorded (followed by the target model) while `engram reembed` moves a folder: no model may open
 * it until the move finishes.
 */
export const REEMBED_PENDING = "reembed-unfinished:";

/** The marker collection of a prefix; user collections are `<prefix>-u-<hash>`, so it cannot collide. */
export function markerCollectionName(prefix: string): string {
  return `${prefix}-meta`;
}

const MARKER_FIELD = "engram_embeddings";

/** The model recorded on the Chroma server for this prefix, if any. */
export async function readStoreModel(client: ChromaClient, prefix: string): Promise<string | undefined> {
  try {
    const collection = await client.getCollection({ name: markerCollectionName(prefix) });
    const value = collection.metadata?.[MARKER_FIELD];
    return typeof value === "string" ? value : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Records `modelId` on the server unless one is recorded (`replace: false`); returns what is
 * recorded afterwards. Creating the collection is atomic on the server, so of two processes that
 * race, both read back the same model.
 */
export async function recordStoreModel(client: ChromaClient, prefix: string, modelId: string, options: { replace: boolean }): Promise<string> {
  const collection = await client.getOrCreateCollection({
    name: markerCollectionName(prefix),
    embeddingFunction: null,
    metadata: { [MARKER_FIELD]: modelId, engram: 1 },
  });
  if (options.replace && collection.metadata?.[MARKER_FIELD] !== modelId) {
    await collection.modify({ metadata: { ...collection.metadata, [MARKER_FIELD]: modelId } });
  }
  return (await readStoreModel(client, prefix)) ?? modelId;
}

/** True when the server has user collections of this prefix (written before it recorded a model). */
export async function storeHasData(client: ChromaClient, prefix: string): Promise<boolean> {
  for await (const _ of collectionsStartingWith(client, `${prefix}-u-`)) return true;
  return false;
}
