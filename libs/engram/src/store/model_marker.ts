import type Database from "better-sqlite3";
import type { ChromaClient } from "chromadb";
import { collectionsStartingWith } from "./list_collections.js";
import { isNotFound } from "./not_found.js";
import { runSql } from "./sqlite.js";

/**
 * Where a data folder, or a Chroma server shared by several folders, records which embedding model
 * wrote its vectors (docs/embeddings.md): a row of `engram_meta` in `engram.sqlite`, and the
 * metadata of one marker collection per prefix on the Chroma server. The first model recorded
 * wins a race between two processes; only `engram reembed` replaces it.
 */

const KEY = "embeddings";

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

function ensureTable(db: Database.Database): void {
  runSql(db, "model marker", () =>
    db.exec("CREATE TABLE IF NOT EXISTS engram_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)"),
  );
}

/** The model recorded in the folder's database, if any. */
export function readFolderModel(db: Database.Database): string | undefined {
  ensureTable(db);
  const row = runSql(db, "model marker", () =>
    db.prepare<[string], { value: string }>("SELECT value FROM engram_meta WHERE key = ?").get(KEY),
  );
  return row?.value;
}

/**
 * Records `modelId` unless a model is recorded already (`replace: false`), and returns the model
 * recorded afterwards: the caller's, or the one another process recorded first.
 */
export function recordFolderModel(db: Database.Database, modelId: string, options: { replace: boolean }): string {
  ensureTable(db);
  const verb = options.replace ? "INSERT OR REPLACE" : "INSERT OR IGNORE";
  runSql(db, "model marker", () =>
    db.prepare(`${verb} INTO engram_meta (key, value, updated_at) VALUES (?, ?, ?)`).run(KEY, modelId, Date.now()),
  );
  return readFolderModel(db) ?? modelId;
}

/** True when the folder holds writes from before it recorded a model (history or queued writes). */
export function folderHasData(db: Database.Database): boolean {
  return runSql(db, "model marker", () => {
    for (const table of ["history", "outbox"]) {
      const exists = db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      if (!exists?.n) continue;
      const row = db.prepare<[], { one: number }>(`SELECT 1 AS one FROM ${table} LIMIT 1`).get();
      if (row) return true;
    }
    return false;
  });
}

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
