/**
 * Validation of Memory's calls and the records they build: everything here runs before anything is
 * written, so bad input fails with an `EngramError` and leaves no trace.
 */
import { EngramError } from "../core/errors.js";
import { checkIdText } from "../core/text.js";
import { validateKind } from "../core/scope.js";
import type { MemoryKind, MemoryRecord, MemorySource, Scope } from "../core/types.js";
import {
  isArray,
  validateContent,
  validateImportance,
  validateMetadata,
  validateOptionObject,
  validateRecordId,
  validateTime,
} from "../core/validate.js";
import { describeValue } from "../core/describe.js";
import { resolveRanker, DEFAULT_RANKER, type ResolvedRankerOptions } from "../scoring/ranker.js";
import { withEntities, withoutEntities } from "../scoring/entities.js";
import { withDates, withoutDates } from "../scoring/dates.js";
import type { StoreFilter } from "../store/types.js";
import { normalizeMessages } from "./messages.js";
import { fitText, itemId, partMetadata, validateOversize, type FittedItem } from "./fit.js";
import type { AddOptions, MemoryFilters, MemoryPatch, SearchOptions } from "./options.js";

/** What `add` will store, checked: the records (ids, times, metadata) and what the input warned of. */
export interface AddPlan {
  kind: MemoryKind;
  /** Extract facts from what this call stores. */
  infer: boolean;
  warnings: string[];
  /** The drain tags the records' entities (writer.ts `UpsertOp.tagEntities`). */
  tagEntities: boolean;
  /** The records, at `now`. */
  build(now: number): MemoryRecord[];
  /** The call's `createdAt`, checked (undefined: the call's own time). */
  createdAt?: number;
}

/** What record building needs from the Memory. */
export interface RecordRules {
  maxContentChars: number;
  /** Tag offline entities into `metadata.entities`. */
  extractEntities: boolean;
}

/**
 * The keys of `add`'s options (AddOptions, scope included). A key it does not know is refused, as
 * `search`, `getAll` and `addMany`'s items refuse one: `{ expiresIn: 60_000 }` (a typo for
 * `expiresAt`) stored a memory that never expires, and `{ metdata }` one without its metadata.
 */
export const ADD_KEYS: readonly string[] = [
  "userId",
  "agentId",
  "threadId",
  "metadata",
  "importance",
  "expiresAt",
  "kind",
  "id",
  "source",
  "infer",
  "oversize",
  "createdAt",
];

/** Longest role of a message, as the longest metadata string. */
const MAX_ROLE_CHARS = 1_000;

/**
 * Checks `add`'s input and options and builds its records at `now` (messages of one call 1 ms
 * apart, so their order in the thread is kept). Ids are deterministic unless `options.id` is given.
 */
export function planAdd(
  input: string | ReadonlyArray<unknown>,
  options: AddOptions,
  scope: Scope,
  rules: RecordRules & { infer(kind: MemoryKind): boolean },
): AddPlan {
  validateOptionObject(options, "add() options", ADD_KEYS, '{ userId: "alice", importance: 0.8 }');
  const kind: MemoryKind = options.kind === undefined ? "episode" : validateKind(options.kind);
  const metadata = validateMetadata(options.metadata);
  const importance = options.importance === undefined ? 0.5 : validateImportance(options.importance);
  const expiresAt = options.expiresAt === undefined ? undefined : validateTime(options.expiresAt, "expiresAt");
  const explicitId = options.id === undefined ? undefined : validateRecordId(options.id);
  const source = options.source === undefined ? undefined : validateSource(options.source);
  const infer = rules.infer(kind);
  const oversize = validateOversize(options.oversize);
  const createdAt = options.createdAt === undefined ? undefined : validateTime(options.createdAt, "createdAt");
  const warnings: string[] = [];
  let items: FittedItem[];
  if (typeof input === "string") {
    items = fitText({ text: input }, rules.maxContentChars, oversize);
  } else if (isArray(input)) {
    const normalized = normalizeMessages(input);
    warnings.push(...normalized.warnings);
    // A role is stored as metadata: no longer than a metadata string (it had no limit at all).
    const long = normalized.messages.find((message) => message.role.length > MAX_ROLE_CHARS);
    if (long) throw new EngramError("INVALID_CONTENT", `A message's role is ${long.role.length} characters; the limit is ${MAX_ROLE_CHARS}.`);
    items = normalized.messages.flatMap((message) =>
      fitText({ text: message.text, role: message.role, messageId: message.id }, rules.maxContentChars, oversize),
    );
    if (items.length === 0) throw new EngramError("INVALID_CONTENT", "No message had any text content to store.");
  } else {
    throw new EngramError("INVALID_CONTENT", "add() takes a string or an array of chat messages.");
  }
  if (explicitId !== undefined && items.length !== 1) {
    throw new EngramError("INVALID_OPTIONS", `An explicit id names one record; this input makes ${items.length}.`);
  }
  if (expiresAt !== undefined && createdAt !== undefined) checkExpiry(expiresAt, createdAt);
  const build = (now: number): MemoryRecord[] => {
    if (expiresAt !== undefined) checkExpiry(expiresAt, now);
    return items.map((item, position): MemoryRecord => {
      const itemMetadata = partMetadata(metadata, item);
      const record: MemoryRecord = {
        id: explicitId ?? itemId(scope, kind, item, source?.messageIds, metadata),
        scope: { ...scope },
        kind,
        content: item.text,
        importance,
        createdAt: now + position,
        updatedAt: now + position,
        lastAccessedAt: now + position,
        source: {},
        // The dates the text speaks of, resolved against now (scoring/dates.ts), whatever the entity
        // option (the ranker's date boost reads them); the entities, when on, are tagged when the
        // write drains (`tagEntities`), off the caller's path.
        metadata: withDates(itemMetadata, item.text, now + position),
      };
      if (item.role !== undefined) record.role = item.role;
      if (expiresAt !== undefined) record.expiresAt = expiresAt;
      if (scope.threadId !== undefined) record.source.threadId = scope.threadId;
      if (item.messageId !== undefined) record.source.messageIds = [item.messageId];
      if (source !== undefined) record.source = { ...record.source, ...source };
      return record;
    });
  };
  return { kind, infer, warnings, build, tagEntities: rules.extractEntities, ...(createdAt !== undefined ? { createdAt } : {}) };
}

/**
 * An expiry before the memory was said is a mistake, refused: a time in seconds
 * (`Date.now() / 1000 + 3600`) or a duration (`3_600_000`) was stored as a memory already expired,
 * hidden from every read, and each retry stored it anew (an expired id is free), one more ADD each.
 * An expiry at or after `createdAt` is kept, even if already past (an import of old data).
 */
export function checkExpiry(expiresAt: number, createdAt: number): void {
  if (expiresAt < createdAt) {
    throw new EngramError(
      "INVALID_OPTIONS",
      `expiresAt (${expiresAt}) is before the memory's createdAt (${createdAt}): it would be stored already expired. ` +
        "expiresAt is a Date or milliseconds since the epoch (not seconds, not a duration).",
      { details: { expiresAt, createdAt } },
    );
  }
}

/** `search`'s threshold and per-call ranker, checked. */
export function searchSettings(options: SearchOptions, ranker: ResolvedRankerOptions): { threshold: number; ranker: ResolvedRankerOptions } {
  const threshold = options.threshold ?? 0;
  if (typeof threshold !== "number" || !(threshold >= 0 && threshold <= 1)) {
    throw new EngramError("INVALID_OPTIONS", `threshold must be a number from 0 to 1, got ${describeValue(options.threshold)}.`);
  }
  if (options.ranker === undefined) return { threshold, ranker };
  const own = validateOptionObject(options.ranker, "ranker", Object.keys(DEFAULT_RANKER), "{ recency: 0.1 }");
  return { threshold, ranker: resolveRanker({ ...ranker, ...own }) };
}

/** `update`'s change, checked: the new values (undefined: unchanged; expiresAt null: removed). */
export interface CheckedPatch {
  content?: string;
  importance?: number;
  metadata?: MemoryRecord["metadata"];
  expiresAt?: number | null;
}

export function checkPatch(change: unknown, maxContentChars: number): CheckedPatch {
  const patch = (typeof change === "string" ? { content: change } : change) as MemoryPatch | null;
  if (patch === null || typeof patch !== "object") {
    throw new EngramError("INVALID_OPTIONS", "update() takes new content or a patch object.");
  }
  validateOptionObject(patch, "update()'s patch", ["content", "importance", "metadata", "expiresAt"], '{ content: "..." }');
  const checked: CheckedPatch = {};
  if (patch.content !== undefined) checked.content = validateContent(patch.content, maxContentChars);
  if (patch.importance !== undefined) checked.importance = validateImportance(patch.importance);
  if (patch.metadata !== undefined) checked.metadata = validateMetadata(patch.metadata);
  if (patch.expiresAt === null) checked.expiresAt = null;
  else if (patch.expiresAt !== undefined) checked.expiresAt = validateTime(patch.expiresAt, "expiresAt");
  return checked;
}

/** The record after a patch, at `now`; the entities follow new content unless the patch sets metadata. */
export function patched(before: MemoryRecord, patch: CheckedPatch, now: number, extractEntities: boolean): MemoryRecord {
  const after: MemoryRecord = { ...before, scope: { ...before.scope }, source: { ...before.source }, updatedAt: now };
  if (patch.content !== undefined) after.content = patch.content;
  if (patch.importance !== undefined) after.importance = patch.importance;
  if (patch.metadata !== undefined) after.metadata = patch.metadata;
  else if (patch.content !== undefined && patch.content !== before.content) {
    // The old content's resolved dates never stay; new ones are resolved against the record's own time.
    const undated = withoutDates(before.metadata);
    after.metadata = withDates(extractEntities ? withEntities(withoutEntities(undated), patch.content) : undated, patch.content, before.createdAt);
  }
  if (patch.expiresAt === null) delete after.expiresAt;
  else if (patch.expiresAt !== undefined) {
    checkExpiry(patch.expiresAt, before.createdAt);
    after.expiresAt = patch.expiresAt;
  }
  return after;
}

/** The store filter of a scope (agent, thread) and the caller's filters, checked. */
export function storeFilter(scope: Scope, filters: MemoryFilters | undefined): StoreFilter {
  const filter: StoreFilter = {};
  if (scope.agentId !== undefined) filter.agentId = scope.agentId;
  if (scope.threadId !== undefined) filter.threadId = scope.threadId;
  if (filters === undefined) return filter;
  validateOptionObject(filters, "filters", ["kind", "createdAfter", "createdBefore", "metadata"], '{ kind: "fact" }');
  if (filters.kind !== undefined) {
    // An empty list matched nothing, silently: a search that can return nothing is a mistake.
    if (Array.isArray(filters.kind) && filters.kind.length === 0) {
      throw new EngramError("INVALID_OPTIONS", 'filters.kind is an empty list, which no memory matches: name one kind or more ({ kind: ["fact", "episode"] }), or leave it out.');
    }
    filter.kind = Array.isArray(filters.kind) ? filters.kind.map(validateKind) : validateKind(filters.kind);
  }
  if (filters.createdAfter !== undefined) filter.createdAfter = validateTime(filters.createdAfter, "createdAfter");
  if (filters.createdBefore !== undefined) filter.createdBefore = validateTime(filters.createdBefore, "createdBefore");
  if (filters.metadata !== undefined) filter.metadata = validateMetadata(filters.metadata);
  return filter;
}

export function isExpired(record: MemoryRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}

export function notFound(id: string): EngramError {
  return new EngramError("NOT_FOUND", `No memory ${id} for this user.`, { details: { id } });
}

/** `add`'s `source`: a thread id and message ids, all non-empty strings. */
export function validateSource(input: unknown): MemorySource {
  const raw = validateOptionObject(input, "source", ["threadId", "messageIds"], "{ threadId, messageIds }");
  const source: MemorySource = {};
  if (raw.threadId !== undefined) {
    if (typeof raw.threadId !== "string" || raw.threadId.trim() === "") {
      throw new EngramError("INVALID_OPTIONS", "source.threadId must be a non-empty string.");
    }
    source.threadId = checkIdText(raw.threadId, "source.threadId", "INVALID_OPTIONS");
  }
  if (raw.messageIds !== undefined) {
    const ids = raw.messageIds;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string" && id.trim() !== "")) {
      throw new EngramError("INVALID_OPTIONS", "source.messageIds must be an array of non-empty strings.");
    }
    // Ids, as source.threadId: refused, not repaired, when one holds a control or a broken character.
    source.messageIds = (ids as string[]).map((id, i) => checkIdText(id, `source.messageIds[${i}]`, "INVALID_OPTIONS"));
  }
  return source;
}

/** The `writes` option. */
export function validateWrites(value: unknown): "sync" | "background" {
  if (value === undefined) return "background";
  if (value === "sync" || value === "background") return value;
  throw new EngramError("INVALID_OPTIONS", `writes must be "sync" or "background", got ${describeValue(value)}.`);
}
