import type { MemoryKind, MemoryRecord, Metadata } from "../core/types.js";
import type { StoreRevision } from "./revision_log.js";

export type { StoreRevision };

/** Narrows a read to part of one user's memories. All fields combine with AND. */
export interface StoreFilter {
  kind?: MemoryKind | MemoryKind[];
  agentId?: string;
  threadId?: string;
  /** Only records created at or after this time (ms since epoch). */
  createdAfter?: number;
  /** Only records created before this time (ms since epoch). */
  createdBefore?: number;
  /** Exact matches on flat metadata values. */
  metadata?: Metadata;
}

export interface StoredRecord {
  record: MemoryRecord;
  embedding: number[];
  /**
   * The id may already be stored with keys this record lacks, though the record looks new (its
   * `updatedAt` is its `createdAt`): an expired memory said again. The store removes those keys.
   */
  replaces?: boolean;
}

export interface StoreHit {
  record: MemoryRecord;
  /** Cosine distance (0 = same direction, 2 = opposite). */
  distance: number;
  embedding?: number[];
}

/**
 * The episodic store: long-term records of one user at a time. Every method names the user; an
 * implementation must make another user's records unreachable through it. It knows nothing of
 * LangChain or LangGraph.
 */
export interface EpisodicStore {
  /** Inserts or replaces records (same id, same record: idempotent). */
  upsert(userId: string, items: StoredRecord[]): Promise<void>;
  /** Nearest records to `vector`, closest first. */
  query(userId: string, vector: number[], k: number, filter?: StoreFilter): Promise<StoreHit[]>;
  /** Records by id; ids of other users, unknown ids and records outside `filter` are absent. */
  get(userId: string, ids: string[], options?: { embeddings?: boolean; filter?: StoreFilter }): Promise<StoreHit[]>;
  /** Every record of the user that matches, newest first. */
  list(userId: string, filter?: StoreFilter): Promise<MemoryRecord[]>;
  /** Every record of the user with its vector, in no particular order (builds in-process indexes). */
  scan(userId: string): Promise<StoredRecord[]>;
  delete(userId: string, ids: string[]): Promise<void>;
  /** Removes every record of the user; returns how many there were. */
  deleteUser(userId: string): Promise<number>;
  count(userId: string): Promise<number>;
  /**
   * The user's revision, seen by every instance sharing the store: it must change after every
   * `upsert`, `delete` or `deleteUser` of the user that resolved, by any instance, and a
   * successful `upsert` or `delete` call must add exactly one to `count` (same `log`). A store
   * without it gets the weaker check of counting the user's records (another instance's update,
   * or a delete plus an add, then goes unseen by in-process indexes until the count changes).
   */
  revision?(userId: string): Promise<StoreRevision>;
  close(): Promise<void>;
}
