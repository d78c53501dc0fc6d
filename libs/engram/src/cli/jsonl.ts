import { EngramError } from "../core/errors.js";
import { validateKind, validateScope } from "../core/scope.js";
import type { MemoryKind, MemoryRecord, MemorySource, Metadata, Scope } from "../core/types.js";
import { validateSource } from "../memory/records.js";
import {
  DEFAULT_MAX_CONTENT_CHARS,
  validateContent,
  validateImportance,
  validateMetadata,
  validateRecordId,
  validateTime,
} from "../core/validate.js";

/**
 * One line of an export: everything a record holds except its vector. Vectors belong to the
 * embedding model of the folder they came from; an import embeds the content again, so a file
 * moves between models and Engram versions.
 */
export interface ExportedMemory {
  id: string;
  kind: MemoryKind;
  content: string;
  importance: number;
  createdAt: number;
  updatedAt: number;
  lastAccessedAt: number;
  expiresAt?: number;
  role?: string;
  scope: Scope;
  source: MemorySource;
  metadata: Metadata;
}

/** A validated line of an import file, ready for `Memory.add`. */
export interface ImportedMemory {
  /** 1-based line number in the file, for messages. */
  line: number;
  id?: string;
  kind: MemoryKind;
  content: string;
  importance?: number;
  createdAt?: number;
  expiresAt?: number;
  role?: string;
  agentId?: string;
  threadId?: string;
  source?: MemorySource;
  metadata: Metadata;
}

/** The record as one export line (fixed key order, no vector). */
export function toExportLine(record: MemoryRecord): string {
  const line: ExportedMemory = {
    id: record.id,
    kind: record.kind,
    content: record.content,
    importance: record.importance,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastAccessedAt: record.lastAccessedAt,
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
    ...(record.role === undefined ? {} : { role: record.role }),
    scope: record.scope,
    source: record.source,
    // Keys sorted: the store does not keep their order, and two exports of one memory should match.
    metadata: Object.fromEntries(Object.entries(record.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
  return JSON.stringify(line);
}

const FIELDS = new Set([
  "id", "kind", "content", "importance", "createdAt", "updatedAt", "lastAccessedAt", "expiresAt", "role", "scope", "source", "metadata",
]);
const SCOPE_FIELDS = new Set(["userId", "agentId", "threadId"]);
const SOURCE_FIELDS = new Set(["threadId", "messageIds"]);

/**
 * The import file's bytes as text. A byte that is not UTF-8 refuses the file (`INVALID_IMPORT`,
 * naming its line): decoding it leniently would store U+FFFD in place of the character (a Latin-1
 * "café" became "caf\uFFFD"), a silent change to the user's memory.
 */
export function decodeImportFile(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    // Anything else (a file larger than the longest string V8 can hold) is the caller's to report.
    if ((cause as NodeJS.ErrnoException).code !== "ERR_ENCODING_INVALID_ENCODED_DATA") throw cause;
    const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
    if (utf16) throw notUtf8(1, "the file is UTF-16 (it starts with a UTF-16 byte order mark), not UTF-8", cause);
    const { line, offset } = firstBadByte(bytes);
    throw notUtf8(line, `byte 0x${bytes[offset]!.toString(16).padStart(2, "0")} (byte ${offset + 1} of the file) is not UTF-8`, cause);
  }
}

function notUtf8(line: number, why: string, cause: unknown): EngramError {
  return new EngramError("INVALID_IMPORT", `Line ${line}: ${why}. Save the file as UTF-8. Nothing was imported.`, { cause, details: { line } });
}

/** Where the first byte that does not decode is: its 1-based line, and its offset in the file. */
function firstBadByte(bytes: Uint8Array): { line: number; offset: number } {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  let start = 0;
  for (let end = 0; end <= bytes.length; end += 1) {
    if (end < bytes.length && bytes[end] !== 0x0a) continue;
    try {
      decoder.decode(bytes.subarray(start, end));
    } catch {
      // The line holds it: the longest prefix that still decodes (a whole character short of the bad byte).
      let good = start;
      while (good < end) {
        let next = good + 1;
        while (next < end && (bytes[next]! & 0xc0) === 0x80 && next - good < 4) next += 1;
        try {
          decoder.decode(bytes.subarray(good, next));
        } catch {
          return { line, offset: good };
        }
        good = next;
      }
      return { line, offset: start };
    }
    line += 1;
    start = end + 1;
  }
  return { line, offset: 0 };
}

/**
 * Reads a whole JSON Lines file and checks every line the way `Memory.add` would, so a bad line is
 * refused (`INVALID_IMPORT`, naming its line number) before anything is written. Blank lines are
 * skipped. A repeated id is refused too: the second line would silently be a no-op.
 */
export function parseImportFile(text: string, maxContentChars = DEFAULT_MAX_CONTENT_CHARS): ImportedMemory[] {
  const records: ImportedMemory[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    let record: ImportedMemory;
    try {
      record = parseLine(raw, line, maxContentChars);
    } catch (cause) {
      const reason = cause instanceof EngramError ? `${cause.message} (${cause.code})${tooLong(cause)}` : (cause as Error).message;
      throw new EngramError("INVALID_IMPORT", `Line ${line}: ${reason} Nothing was imported.`, {
        cause,
        details: { line, ...(cause instanceof EngramError ? { reason: cause.code } : {}) },
      });
    }
    if (record.id !== undefined) {
      const first = seen.get(record.id);
      if (first !== undefined) {
        throw new EngramError("INVALID_IMPORT", `Line ${line}: id ${JSON.stringify(record.id)} is already on line ${first}. Nothing was imported.`, {
          details: { line, firstLine: first },
        });
      }
      seen.set(record.id, line);
    }
    records.push(record);
  });
  return records;
}

/** The CLI's way to raise the limit, after validateContent's words for the API's. */
function tooLong(error: EngramError): string {
  return error.code === "CONTENT_TOO_LARGE" ? " Memories written with a larger maxContentChars import with --max-content-chars <n>." : "";
}

function parseLine(raw: string, line: number, maxContentChars: number): ImportedMemory {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    throw new Error(`not valid JSON (${(cause as Error).message}).`);
  }
  const object = plainObject(value, "the line");
  onlyKnown(object, FIELDS, "");
  const record: ImportedMemory = {
    line,
    kind: object.kind === undefined ? "episode" : validateKind(object.kind),
    content: validateContent(object.content, maxContentChars),
    metadata: validateMetadata(object.metadata),
  };
  if (object.id !== undefined) record.id = validateRecordId(object.id);
  if (object.importance !== undefined) record.importance = validateImportance(object.importance);
  if (object.createdAt !== undefined) record.createdAt = validateTime(object.createdAt, "createdAt");
  // Read for their shape only: an import sets both to createdAt (docs/cli.md says why).
  if (object.updatedAt !== undefined) validateTime(object.updatedAt, "updatedAt");
  if (object.lastAccessedAt !== undefined) validateTime(object.lastAccessedAt, "lastAccessedAt");
  if (object.expiresAt !== undefined) record.expiresAt = validateTime(object.expiresAt, "expiresAt");
  if (object.role !== undefined) {
    if (typeof object.role !== "string" || object.role.trim() === "") throw new Error("role must be a non-empty string.");
    record.role = object.role;
  }
  if (object.scope !== undefined) {
    const scope = plainObject(object.scope, "scope");
    onlyKnown(scope, SCOPE_FIELDS, "scope.");
    // The file's userId is only provenance: records go to the --user given to import.
    if (scope.userId !== undefined) validateScope({ userId: scope.userId });
    const checked = validateScope({ userId: "import", agentId: scope.agentId, threadId: scope.threadId });
    if (checked.agentId !== undefined) record.agentId = checked.agentId;
    if (checked.threadId !== undefined) record.threadId = checked.threadId;
  }
  if (object.source !== undefined) record.source = parseSource(object.source);
  return record;
}

function parseSource(value: unknown): MemorySource {
  const raw = plainObject(value, "source");
  onlyKnown(raw, SOURCE_FIELDS, "source.");
  // addMany's own check (ids refused with a control or broken character), so that a line it would
  // refuse is refused here, by its line number, before anything is written.
  return validateSource(raw);
}

function plainObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${what} must be a JSON object.`);
  return value as Record<string, unknown>;
}

function onlyKnown(object: Record<string, unknown>, known: ReadonlySet<string>, path: string): void {
  const unknown = Object.keys(object).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new Error(`unknown field ${unknown.map((key) => JSON.stringify(path + key)).join(", ")}; expected ${[...known].join(", ")}.`);
  }
}
