import { EngramError } from "../core/errors.js";
import type { MemoryKind, MemoryRecord, Scope } from "../core/types.js";
import { groupNearDuplicates } from "./near_duplicates.js";
import { mayMerge, wording } from "./restatement.js";
import { SUPERSEDED_BY_KEY, SUPERSEDES_KEY, VALID_FROM_KEY } from "./validity.js";
import { ENTITIES_KEY } from "../scoring/entities.js";
import { describeValue } from "../core/describe.js";

/** The rules of forgetting. Every field is optional; the defaults are below. */
export interface ForgetRules {
  /**
   * Cosine similarity at or above which two records of the same kind are near-duplicates and
   * merged into one. In (0, 1]; 1 merges only identical vectors.
   * @default 0.95
   */
  dedupeThreshold?: number;
  /**
   * Half-life of the retention score's decay since last access, in days: a record not accessed
   * for this long counts half its importance when the cap chooses what to evict.
   * @default 30
   */
  halfLifeDays?: number;
  /**
   * Keep at most this many records per user (within the scope given); the lowest retention go
   * first. A positive integer.
   * @default 10000
   */
  maxRecords?: number;
}

/** Options of `Memory.forget`: whose memory, and the rules. */
export interface ForgetOptions extends Scope, ForgetRules {}

/** What `Memory.forget` removed. Every removal is also in `history` with its reason. */
export interface ForgetReport {
  /** Near-duplicates removed (merged into the record kept), reason "dedupe". */
  merged: number;
  /** Records evicted by the cap, lowest retention first, reason "cap". */
  evicted: number;
  /** Records past their `expiresAt`, reason "ttl". */
  expired: number;
  /** Ids of every record removed. */
  removedIds: string[];
  /**
   * True when the store was unreachable: the removals are safe in the outbox and reach the store
   * on `flush()` or the next successful call.
   */
  pending: boolean;
}

/** Why forgetting removed a record, as written to history. */
export type ForgetReason = "ttl" | "dedupe" | "cap";

/** The defaults, in one place. */
export const DEFAULT_FORGET_RULES: Readonly<Required<ForgetRules>> = Object.freeze({
  dedupeThreshold: 0.95,
  halfLifeDays: 30,
  maxRecords: 10_000,
});

const DAY_MS = 86_400_000;

/** Checks the rules and fills in the defaults; `INVALID_OPTIONS` for anything out of range. */
export function resolveForgetRules(rules: ForgetRules = {}): Required<ForgetRules> {
  if (rules === null || typeof rules !== "object") {
    throw new EngramError("INVALID_OPTIONS", "forget() takes an options object, e.g. { userId: \"alice\" }.");
  }
  const dedupeThreshold = rules.dedupeThreshold ?? DEFAULT_FORGET_RULES.dedupeThreshold;
  const halfLifeDays = rules.halfLifeDays ?? DEFAULT_FORGET_RULES.halfLifeDays;
  const maxRecords = rules.maxRecords ?? DEFAULT_FORGET_RULES.maxRecords;
  if (typeof dedupeThreshold !== "number" || !(dedupeThreshold > 0 && dedupeThreshold <= 1)) {
    throw invalid("dedupeThreshold", "a number in (0, 1]", rules.dedupeThreshold);
  }
  if (typeof halfLifeDays !== "number" || !(halfLifeDays > 0) || !Number.isFinite(halfLifeDays)) {
    throw invalid("halfLifeDays", "a finite number of days above 0", rules.halfLifeDays);
  }
  if (typeof maxRecords !== "number" || !Number.isSafeInteger(maxRecords) || maxRecords < 1) {
    throw invalid("maxRecords", "a positive integer", rules.maxRecords);
  }
  return { dedupeThreshold, halfLifeDays, maxRecords };
}

/**
 * How much a record is worth keeping: its importance, halved for every `halfLifeDays` since it was
 * last accessed.
 *
 *     retention = importance * 0.5 ^ (days since lastAccessedAt / halfLifeDays)
 *
 * A last access in the future (clock skew) counts as now.
 */
export function retention(record: MemoryRecord, now: number, halfLifeDays: number): number {
  const days = Math.max(0, now - record.lastAccessedAt) / DAY_MS;
  return record.importance * 0.5 ** (days / halfLifeDays);
}

/** A record with its stored embedding, as the planner takes it. */
export interface ForgetItem {
  record: MemoryRecord;
  embedding: ArrayLike<number>;
}

/** One record the plan removes, and why. */
export interface ForgetRemoval {
  record: MemoryRecord;
  reason: ForgetReason;
  /** For "dedupe": the id of the record it was merged into. */
  mergedInto?: string;
  /** For "cap": its retention score when evicted. */
  retention?: number;
}

/** What forgetting will do. Applying it is the caller's job (`Memory.forget` does it). */
export interface ForgetPlan {
  /** In rule order: "ttl" first, then "dedupe", then "cap" (lowest retention first). */
  removals: ForgetRemoval[];
  /**
   * Records that absorbed near-duplicates, to write back: `source.messageIds` is the union of the
   * group's, `lastAccessedAt` the latest of the group's, `expiresAt` the latest (none if one has
   * none), `updatedAt` is `now`. A record that
   * absorbed duplicates and was then evicted by the cap is not here.
   */
  updates: MemoryRecord[];
  /** Ids of the records that stay, in input order. */
  keptIds: string[];
}

/**
 * Plans forgetting over one user's records, without touching anything (a pure function):
 *
 * 1. TTL: records whose `expiresAt` is at or before `now` go, reason "ttl".
 * 2. Dedupe: among the rest, records of the same kind whose embeddings have a cosine similarity of
 *    `dedupeThreshold` or more are merged. The one kept is the most important, then the most
 *    recently accessed, then the most recently created (then the smallest id, so the plan is
 *    deterministic); it takes the union of the group's `source.messageIds`. The others go,
 *    reason "dedupe". Records of different kinds are never merged, nor records of different
 *    agents or speakers, nor records whose metadata differ (which also keeps apart texts that speak
 *    of other days, `metadata.dates`, and a fact that ended from one that did not).
 *    The kept record lives as long as the longest-lived of its group.
 * 3. Cap: if more than `maxRecords` remain, the lowest retention (see {@link retention}) go until
 *    `maxRecords` remain, reason "cap"; ties go oldest access first.
 *
 * Core blocks (kind "procedure" with a `block` metadata value) are pinned: never merged and never
 * evicted by the cap, since each is addressed by its name and always in the prompt. Learned
 * instructions (the other procedures) are never evicted by the cap either: each stands in every
 * system prompt until retired, and nothing reads it in a way that counts as access, so the decay
 * made an instruction of a few months the first to go, before the week's small talk. They still
 * merge with a restatement of themselves. Both still expire, and count towards the cap.
 *
 * Throws `INVALID_OPTIONS` for rules out of range, `INVALID_SCOPE` when the records are not all of
 * one user, `INVALID_ID` for an id given twice.
 */
export function planForget(items: readonly ForgetItem[], rules: ForgetRules, now: number): ForgetPlan {
  const { dedupeThreshold, halfLifeDays, maxRecords } = resolveForgetRules(rules);
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new EngramError("INVALID_OPTIONS", `now must be a time in ms since the epoch, got ${describeValue(now)}.`);
  }
  checkItems(items);

  const removals: ForgetRemoval[] = [];
  const live: ForgetItem[] = [];
  for (const item of items) {
    if (item.record.expiresAt !== undefined && item.record.expiresAt <= now) removals.push({ record: item.record, reason: "ttl" });
    else live.push(item);
  }

  const removed = new Set<string>(removals.map((removal) => removal.record.id));
  const merged = new Map<string, MemoryRecord>();
  for (const group of byKind(live.filter((item) => !isPinned(item.record)))) {
    const ordered = [...group].sort((a, b) => keepFirst(a.record, b.record));
    // An embedding misses order, numbers and negation: the texts must agree on those too. And a
    // fact that ended is a period of the past, not a copy of the same words true again now: only
    // records that end at the same time (or never) merge.
    const wordings = ordered.map((item) => wording(item.record.content));
    // Only copies of one memory as every reader sees it merge (see `holderKey`).
    const holders = ordered.map((item) => holderKey(item.record));
    const representative = groupNearDuplicates(
      ordered.map((item) => item.embedding),
      dedupeThreshold,
      (i, r) => holders[i] === holders[r] && mayMerge(wordings[i]!, wordings[r]!),
    );
    const members = new Map<number, ForgetItem[]>();
    ordered.forEach((item, i) => {
      const r = representative[i]!;
      if (r === i) return;
      const list = members.get(r);
      if (list) list.push(item);
      else members.set(r, [item]);
    });
    for (const [r, duplicates] of members) {
      const kept = ordered[r]!.record;
      merged.set(kept.id, mergeInto(kept, duplicates.map((item) => item.record), now));
      for (const duplicate of duplicates) {
        removals.push({ record: duplicate.record, reason: "dedupe", mergedInto: kept.id });
        removed.add(duplicate.record.id);
      }
    }
  }

  const remaining = live.filter((item) => !removed.has(item.record.id)).map((item) => merged.get(item.record.id) ?? item.record);
  const over = remaining.length - maxRecords;
  if (over > 0) {
    const candidates = remaining
      .filter((record) => record.kind !== "procedure")
      .map((record) => ({ record, retention: retention(record, now, halfLifeDays) }))
      .sort(
        (a, b) =>
          a.retention - b.retention ||
          a.record.lastAccessedAt - b.record.lastAccessedAt ||
          a.record.createdAt - b.record.createdAt ||
          compareIds(a.record.id, b.record.id),
      );
    for (const candidate of candidates.slice(0, over)) {
      removals.push({ record: candidate.record, reason: "cap", retention: candidate.retention });
      removed.add(candidate.record.id);
    }
  }

  return {
    removals,
    updates: [...merged.values()].filter((record) => !removed.has(record.id)),
    keptIds: items.filter((item) => !removed.has(item.record.id)).map((item) => item.record.id),
  };
}

/**
 * Engram's own metadata that two copies of one memory may differ in without being two memories:
 * the entities tagged (from the words, which may differ in case or punctuation), and when a fact
 * was learned and what it replaced. The kept record's stand.
 */
const PER_COPY_KEYS: ReadonlySet<string> = new Set([ENTITIES_KEY, VALID_FROM_KEY, SUPERSEDES_KEY, SUPERSEDED_BY_KEY]);

/**
 * What two records must share to merge, besides their words: the agent, who said it, and every
 * metadata key and value but {@link PER_COPY_KEYS}. A search, `getAll` or a system prompt reads a
 * memory by its agent and filters it by its metadata: merged into another agent's record (an
 * instruction two agents learned), or into one whose metadata differ (`{ project: "a" }` and
 * `{ project: "b" }`, or a key only the removed copy had), the removed copy was gone from every read
 * that found it. The metadata also hold what else keeps copies apart: a fact that ended
 * (`validUntil`: a period of the past, not the same words true again), the days the words speak of
 * (`dates`: "I went to the gym yesterday" said on Monday and on Thursday are two events), and a
 * summary `clear()` took out of its thread's history. Threads are not compared: the same thing said
 * in two threads is one memory of the user, with both messages as its sources.
 */
function holderKey(record: MemoryRecord): string {
  const metadata = Object.entries(record.metadata)
    .filter(([key]) => !PER_COPY_KEYS.has(key))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([record.scope.agentId ?? null, record.role ?? null, metadata]);
}

/** Core blocks are addressed by name and always shown; forgetting never merges or evicts them. */
function isPinned(record: MemoryRecord): boolean {
  return record.kind === "procedure" && typeof record.metadata.block === "string";
}

/** Sort order of a near-duplicate group: the record to keep comes first. */
function keepFirst(a: MemoryRecord, b: MemoryRecord): number {
  return (
    b.importance - a.importance ||
    b.lastAccessedAt - a.lastAccessedAt ||
    b.createdAt - a.createdAt ||
    compareIds(a.id, b.id)
  );
}

function mergeInto(kept: MemoryRecord, duplicates: MemoryRecord[], now: number): MemoryRecord {
  const messageIds = [...new Set([kept, ...duplicates].flatMap((record) => record.source.messageIds ?? []))];
  const source = { ...kept.source };
  if (messageIds.length > 0) source.messageIds = messageIds;
  const merged: MemoryRecord = {
    ...kept,
    scope: { ...kept.scope },
    metadata: { ...kept.metadata },
    source,
    lastAccessedAt: Math.max(kept.lastAccessedAt, ...duplicates.map((record) => record.lastAccessedAt)),
    updatedAt: now,
  };
  // The group's longest life: the kept record may be a copy stored for a day, its duplicate the
  // same words stored for good; kept with its own expiry, the memory was gone the next day.
  const group = [kept, ...duplicates];
  if (group.some((record) => record.expiresAt === undefined)) delete merged.expiresAt;
  else merged.expiresAt = Math.max(...group.map((record) => record.expiresAt!));
  return merged;
}

function byKind(items: ForgetItem[]): ForgetItem[][] {
  const groups = new Map<MemoryKind, ForgetItem[]>();
  for (const item of items) {
    const group = groups.get(item.record.kind);
    if (group) group.push(item);
    else groups.set(item.record.kind, [item]);
  }
  return [...groups.values()];
}

function checkItems(items: readonly ForgetItem[]): void {
  if (!Array.isArray(items)) throw new EngramError("INVALID_OPTIONS", "planForget() takes an array of { record, embedding }.");
  const ids = new Set<string>();
  const userId = items[0]?.record.scope.userId;
  for (const item of items) {
    if (item.record.scope.userId !== userId) {
      // One user at a time: a merge across users would hand one user's memory to another.
      throw new EngramError("INVALID_SCOPE", "planForget() takes the records of one user at a time.");
    }
    if (ids.has(item.record.id)) {
      throw new EngramError("INVALID_ID", `Record ${item.record.id} is given twice.`, { details: { id: item.record.id } });
    }
    ids.add(item.record.id);
  }
}

/** Code-unit order, independent of the locale. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function invalid(name: string, expected: string, value: unknown): EngramError {
  return new EngramError("INVALID_OPTIONS", `${name} must be ${expected}, got ${describeValue(value)}.`, {
    details: { option: name, value },
  });
}
