/**
 * `addMany`'s input, checked: many texts of one user in one call (a bulk import), each with its own
 * thread, role, time and options. Every item is checked before anything is written, so one bad
 * item refuses the whole call with an `EngramError` naming it (`items[3]: ...`).
 */
import { EngramError, isEngramError } from "../core/errors.js";
import { validateScope } from "../core/scope.js";
import type { MemoryKind, MemoryRecord, MemorySource, Metadata, Scope } from "../core/types.js";
import { validateOptionObject, validateTime } from "../core/validate.js";
import { describeValue } from "../core/describe.js";
import type { AddOptions } from "./options.js";
import { planAdd, type AddPlan, type RecordRules } from "./records.js";

/** One text of {@link AddManyOptions}' call: what one `add(content, options)` would store. */
export interface AddManyItem {
  /** The text; one record (or linked parts, with `oversize: "split"`). */
  content: string;
  /**
   * Who said it ("user", "assistant"...), as in a chat message given to `add`.
   * @default none (a plain text)
   */
  role?: string;
  /** @default the call's `threadId` */
  threadId?: string;
  /** @default the call's `agentId` */
  agentId?: string;
  /** @default "episode" */
  kind?: MemoryKind;
  /** Flat metadata of this record. @default {} */
  metadata?: Metadata;
  /** 0..1. @default 0.5 */
  importance?: number;
  /** @default never */
  expiresAt?: Date | number;
  /** @default derived from the scope, role and content, as `add` derives it */
  id?: string;
  /** @default {} (the thread of the item's scope) */
  source?: MemorySource;
  /**
   * When it was said: the record's `createdAt` and its history entry's time, so an import keeps a
   * conversation's own times (recency, dates resolved against it).
   * @default the call's time plus the item's position (1 ms apart, so input order is kept)
   */
  createdAt?: Date | number;
}

/** Options of `addMany`: the user, and what every item shares unless it says otherwise. */
export interface AddManyOptions extends Scope {
  /**
   * Extract facts from what this call stores, as `add`'s `infer` (needs a chat model).
   * @default true when a model is configured, for items of kind "episode"
   */
  infer?: boolean;
  /** As `add`'s `oversize`, for every item. @default "refuse" */
  oversize?: "refuse" | "split";
}

/** Items per `addMany` call: the outbox takes them in one transaction. */
export const MAX_ADD_MANY_ITEMS = 100_000;

const ITEM_KEYS = ["content", "role", "threadId", "agentId", "kind", "metadata", "importance", "expiresAt", "id", "source", "createdAt"];

/** One item, checked: its scope, its plan (records built at `createdAt`, or at the call's time). */
export interface PlannedItem {
  scope: Scope;
  plan: AddPlan;
  createdAt?: number;
}

/**
 * Checks `addMany`'s call. `scope` is the call's checked scope; `infer` resolves an item's `infer`
 * for its kind (as `add` does). Throws the first bad item's error, prefixed with its index.
 */
export function planAddMany(
  items: unknown,
  options: AddManyOptions,
  scope: Scope,
  rules: RecordRules & { infer(kind: MemoryKind, infer: boolean | undefined): boolean },
): PlannedItem[] {
  validateOptionObject(options, "addMany() options", ["userId", "agentId", "threadId", "infer", "oversize"], '{ userId: "alice" }');
  if (!Array.isArray(items)) {
    throw new EngramError("INVALID_CONTENT", `addMany() takes an array of { content, ... } items, got ${describeValue(items)}.`);
  }
  if (items.length > MAX_ADD_MANY_ITEMS) {
    throw new EngramError("INVALID_CONTENT", `addMany() takes at most ${MAX_ADD_MANY_ITEMS} items per call, got ${items.length}: split the import.`);
  }
  // Array.from, not map: a hole of a sparse array is an item too (undefined, refused), not skipped.
  return Array.from(items as unknown[], (item: unknown, index) => {
    try {
      return planItem(item, options, scope, rules);
    } catch (error) {
      if (!isEngramError(error)) throw error;
      throw new EngramError(error.code, `items[${index}]: ${error.message}`, { cause: error, details: { ...error.details, index } });
    }
  });
}

function planItem(
  raw: unknown,
  options: AddManyOptions,
  callScope: Scope,
  rules: RecordRules & { infer(kind: MemoryKind, infer: boolean | undefined): boolean },
): PlannedItem {
  const item = validateOptionObject(raw, "an item", ITEM_KEYS, '{ content: "..." }') as Partial<AddManyItem>;
  if (typeof item.content !== "string") {
    throw new EngramError("INVALID_CONTENT", `content must be a string, got ${describeValue(item.content)}.`);
  }
  const scope = validateScope({
    userId: callScope.userId,
    agentId: item.agentId ?? callScope.agentId,
    threadId: item.threadId ?? callScope.threadId,
  });
  const addOptions: AddOptions = { ...scope };
  if (item.kind !== undefined) addOptions.kind = item.kind;
  if (item.metadata !== undefined) addOptions.metadata = item.metadata;
  if (item.importance !== undefined) addOptions.importance = item.importance;
  if (item.expiresAt !== undefined) addOptions.expiresAt = item.expiresAt;
  if (item.id !== undefined) addOptions.id = item.id;
  if (item.source !== undefined) addOptions.source = item.source;
  if (options.oversize !== undefined) addOptions.oversize = options.oversize;
  const input = item.role === undefined ? item.content : [{ role: item.role, content: item.content }];
  const plan = planAdd(input, addOptions, scope, { ...rules, infer: (kind) => rules.infer(kind, options.infer) });
  const planned: PlannedItem = { scope, plan };
  if (item.createdAt !== undefined) planned.createdAt = validateTime(item.createdAt, "createdAt");
  return planned;
}

/**
 * The records of planned items at `now`: an item without a time gets `now` plus the number of
 * records before it, so the call's order is kept. A record named twice in one call (same scope,
 * role and content, or the same explicit id) is stored once, at its first place.
 */
export function buildMany(planned: readonly PlannedItem[], now: number, warnings: string[] = []): Array<{ item: PlannedItem; records: MemoryRecord[] }> {
  const seen = new Map<string, string>();
  let offset = 0;
  return planned.map((item, index) => {
    let built: MemoryRecord[];
    try {
      built = item.plan.build(item.createdAt ?? now + offset);
    } catch (error) {
      if (!isEngramError(error)) throw error;
      throw new EngramError(error.code, `items[${index}]: ${error.message}`, { cause: error, details: { ...error.details, index } });
    }
    offset += built.length;
    const records = built.filter((record) => {
      const earlier = seen.get(record.id);
      if (earlier === undefined) return seen.set(record.id, record.content) !== undefined;
      // The first item with an id is stored; a later one with another text is not, and is told so.
      if (earlier !== record.content) warnings.push(`items[${index}]: memory ${record.id} repeats an earlier item's id with other content; it was not stored.`);
      return false;
    });
    return { item, records };
  });
}
