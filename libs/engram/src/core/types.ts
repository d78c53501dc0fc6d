/** What a memory is: a past exchange, a fact, a summary of evicted turns, or an instruction. */
export type MemoryKind = "episode" | "fact" | "summary" | "procedure";

export const MEMORY_KINDS: readonly MemoryKind[] = ["episode", "fact", "summary", "procedure"];

/**
 * Who a memory belongs to. `userId` is required on every read and write; `agentId` and `threadId`
 * narrow it further.
 */
export interface Scope {
  userId: string;
  agentId?: string;
  threadId?: string;
}

/** Flat metadata: Chroma stores scalars only. */
export type MetadataValue = string | number | boolean;
export type Metadata = Record<string, MetadataValue>;

/** Where a memory came from: the thread and the messages it was made of. */
export interface MemorySource {
  threadId?: string;
  messageIds?: string[];
}

/** One memory. Times are milliseconds since the Unix epoch. */
export interface MemoryRecord {
  id: string;
  scope: Scope;
  kind: MemoryKind;
  content: string;
  /** 0..1; 0.5 when nothing scored it. */
  importance: number;
  /** Role of the message it came from (`user`, `assistant`...), when it came from one. */
  role?: string;
  createdAt: number;
  updatedAt: number;
  lastAccessedAt: number;
  /** After this time the memory is no longer returned, and forgetting removes it. */
  expiresAt?: number;
  source: MemorySource;
  metadata: Metadata;
}

/** A record returned by a search, with its score (higher is better). */
export interface ScoredMemory extends MemoryRecord {
  /** The ranker's fused score, 0..1. */
  score: number;
  /** What the score is made of, each 0..1 (semantic relevance, lexical match, recency, importance). */
  scoreParts: { relevance: number; lexical: number; recency: number; importance: number; neighbour: number };
}

/** What happened to a memory, as kept by the history log. */
export type HistoryEvent = "ADD" | "UPDATE" | "DELETE";

export interface HistoryEntry {
  /** Id of the history entry itself. */
  id: string;
  memoryId: string;
  userId: string;
  event: HistoryEvent;
  oldContent: string | null;
  newContent: string | null;
  /** When it happened (ms since epoch). */
  at: number;
  /** Why, where it is known: "add", "update", "delete", "deleteAll", "dedupe", "ttl"... */
  reason: string | null;
}
