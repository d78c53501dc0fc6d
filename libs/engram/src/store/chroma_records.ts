import type { Metadata as ChromaMetadata } from "chromadb";
import { MEMORY_KINDS, type MemoryKind, type MemoryRecord, type Metadata } from "../core/types.js";
import { RESERVED_METADATA_KEYS } from "../core/validate.js";

/**
 * Translation between a `MemoryRecord` and Chroma's flat row (document + scalar metadata).
 * Chroma 1.0 rejects arrays and nested objects, so message ids travel as a JSON string.
 *
 * The text is stored in the metadata under {@link TEXT_KEY}, and the row's document is left empty
 * ({@link STORED_DOCUMENT}): Chroma indexes every document for full-text search (trigrams), which
 * Engram never asks for (its lexical side is in process), and that index was 40% of the server's
 * CPU per stored record (docs/benchmarks.md, Chroma breakdown). Rows written before keep their text
 * in the document; a non-empty document wins over the metadata, so such rows, and rows that an
 * older Engram writes again over a newer row (Chroma merges metadata on upsert), read right.
 */

/** The metadata key of the record's text ("_engram" keys are refused in user metadata). */
export const TEXT_KEY = "_engram_text";

/** The document stored with every row (the text is under {@link TEXT_KEY}): empty, so nothing is full-text indexed. */
export const STORED_DOCUMENT = "";

/** A row's text: its document when it has one (rows written before the text moved), else {@link TEXT_KEY}. */
export function rowText(document: string | null | undefined, row: ChromaMetadata | null | undefined): string {
  if (typeof document === "string" && document.length > 0) return document;
  const text = row?.[TEXT_KEY];
  return typeof text === "string" ? text : (document ?? "");
}

export function toChromaMetadata(record: MemoryRecord): ChromaMetadata {
  const row: ChromaMetadata = {
    ...record.metadata,
    [TEXT_KEY]: record.content,
    userId: record.scope.userId,
    kind: record.kind,
    importance: record.importance,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastAccessedAt: record.lastAccessedAt,
  };
  if (record.scope.agentId !== undefined) row.agentId = record.scope.agentId;
  if (record.scope.threadId !== undefined) row.threadId = record.scope.threadId;
  if (record.role !== undefined) row.role = record.role;
  if (record.expiresAt !== undefined) row.expiresAt = record.expiresAt;
  if (record.source.threadId !== undefined) row.sourceThreadId = record.source.threadId;
  if (record.source.messageIds?.length) row.sourceMessageIds = JSON.stringify(record.source.messageIds);
  return row;
}

export function fromChromaRow(id: string, document: string | null, row: ChromaMetadata | null): MemoryRecord {
  const meta = row ?? {};
  const text = (key: string): string | undefined => (typeof meta[key] === "string" ? (meta[key] as string) : undefined);
  const num = (key: string): number | undefined => (typeof meta[key] === "number" ? (meta[key] as number) : undefined);
  const metadata: Metadata = {};
  for (const [key, value] of Object.entries(meta)) {
    if (!RESERVED_METADATA_KEYS.has(key) && !key.startsWith("_engram") && value !== null && value !== undefined && typeof value !== "object") {
      metadata[key] = value as string | number | boolean;
    }
  }
  const kind = text("kind");
  const record: MemoryRecord = {
    id,
    scope: { userId: text("userId") ?? "" },
    kind: kind && (MEMORY_KINDS as readonly string[]).includes(kind) ? (kind as MemoryKind) : "episode",
    content: rowText(document, meta),
    importance: num("importance") ?? 0.5,
    createdAt: num("createdAt") ?? 0,
    updatedAt: num("updatedAt") ?? num("createdAt") ?? 0,
    lastAccessedAt: num("lastAccessedAt") ?? num("createdAt") ?? 0,
    source: {},
    metadata,
  };
  const agentId = text("agentId");
  const threadId = text("threadId");
  if (agentId !== undefined) record.scope.agentId = agentId;
  if (threadId !== undefined) record.scope.threadId = threadId;
  const role = text("role");
  if (role !== undefined) record.role = role;
  const expiresAt = num("expiresAt");
  if (expiresAt !== undefined) record.expiresAt = expiresAt;
  const sourceThreadId = text("sourceThreadId");
  if (sourceThreadId !== undefined) record.source.threadId = sourceThreadId;
  const messageIds = text("sourceMessageIds");
  if (messageIds !== undefined) record.source.messageIds = JSON.parse(messageIds) as string[];
  return record;
}
