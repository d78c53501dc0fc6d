/**
 * Finds the queued writes that were decided on a record that has changed since: updates whose
 * memory is gone (another instance deleted it, or erased its user, between the update's existence
 * check and the queueing of its write), and decisions made on an old copy (forgetting, facts). The
 * drain (writer.ts) drops them unapplied instead of bringing a deleted memory back or overwriting a
 * newer change. Nobody is told it happened as if applied: a sync `update()` whose write is dropped
 * fails with NOT_FOUND, a background one's drain warns (`ENGRAM_UPDATE_DROPPED`), a sync
 * forgetting pass leaves the dropped removals out of its report (write_policy.ts), and reads of
 * the queue never show a write that will be dropped (pending_overlay.ts `drainedOver`).
 */
import { createHash } from "node:crypto";
import type { PendingWrite } from "../state/types.js";
import type { EpisodicStore } from "../store/types.js";
import type { MemoryRecord } from "../core/types.js";
import { isCallerUpdate, landOn } from "./update_rebase.js";
import type { UpsertOp, WriteOp } from "./writer.js";

/**
 * A stored record's version for a write's `ifStoredAs` condition: the whole record (its embedding
 * aside), every object's keys sorted (the store does not keep metadata's key order), hashed. Not
 * its text and the time of its last change alone (the format before, still read by
 * {@link isStoredAs}): a change made in the millisecond of the one before it (two processes' calls,
 * a fixed `clock`) left those as they were, and the cap evicted a record whose importance had just
 * been raised, TTL deleted one whose expiry had just been extended
 * (memory/forget_same_ms.int.test.ts). Every field survives the store's round trip as it is.
 */
export function versionOf(record: MemoryRecord): string {
  return `v2:${createHash("sha256").update(canonical(record)).digest("hex").slice(0, 32)}`;
}

/** Whether `record` is stored as one of `versions` (a condition queued by an older version names text and time only). */
export function isStoredAs(versions: readonly string[], record: MemoryRecord): boolean {
  const version = versionOf(record);
  const legacy = JSON.stringify([record.content, record.updatedAt]);
  return versions.some((one) => one === version || one === legacy);
}

/** A value as text with every object's keys sorted: the store does not keep metadata's key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/**
 * The seqs of writes in `group` that must not be applied now: upserts marked `ifStored` (queued by
 * `update()`, which read the record from the store) whose record is no longer stored, and writes
 * marked `ifStoredAs` (decided on a copy read earlier) when one of their records is gone or
 * changed since. Only such writes are checked: a write whose record may never have been stored
 * (an add, or an update of a fact still queued) is always applied. Costs one store read, only for
 * a group holding a marked write. Run inside the drain lock, after the group's predecessors were
 * applied: what it reads is what the write would land on. A caller's update that is kept is made
 * to land on the record as read here, in place (update_rebase.ts `landOn`).
 */
export async function staleWrites(store: EpisodicStore, userId: string, group: Array<PendingWrite<WriteOp>>): Promise<Set<number>> {
  const isUpdate = (op: WriteOp): op is UpsertOp => op.op === "upsert" && op.ifStored === true;
  const marked = group.filter((row) => isUpdate(row.payload) || (row.payload.ifStoredAs?.length ?? 0) > 0);
  if (marked.length === 0) return new Set();
  const ids = new Set<string>();
  for (const { payload } of marked) {
    if (isUpdate(payload)) ids.add(payload.record.id);
    for (const condition of payload.ifStoredAs ?? []) ids.add(condition.id);
  }
  const records = new Map((await store.get(userId, [...ids])).map((hit) => [hit.record.id, hit.record]));
  const stale = (op: WriteOp): boolean =>
    (isUpdate(op) && !records.has(op.record.id)) ||
    (op.ifStoredAs ?? []).some((condition) => {
      const record = records.get(condition.id);
      return record === undefined || !isStoredAs(condition.versions, record);
    });
  // One queued write per (user, key): a group never holds two upserts of one record.
  const staleSeqs = new Set(marked.filter((row) => stale(row.payload)).map((row) => row.seq));
  for (const row of marked) {
    if (!staleSeqs.has(row.seq) && isCallerUpdate(row.payload)) landOn(row.payload, records.get(row.payload.record.id)!);
  }
  return staleSeqs;
}
