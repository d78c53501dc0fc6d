/**
 * Carries out a forgetting plan: loads a user's records for `planForget` and turns its decisions
 * into outbox writes and a report.
 */
import type { ForgetItem, ForgetPlan, ForgetReport } from "../consolidation/forget.js";
import { isEngramError } from "../core/errors.js";
import type { EpisodicStore, StoreFilter } from "../store/types.js";
import { canonical, versionOf } from "./erased_updates.js";
import type { StoredAs, WriteOp } from "./writer.js";

/** Ids per `store.get` call: keeps each request small whatever the user's record count. */
const GET_BATCH = 1_000;

/**
 * A user's records (within `filter`) with their stored embeddings, expired ones included: the
 * planner is what removes those.
 */
export async function loadForgetItems(store: EpisodicStore, userId: string, filter: StoreFilter): Promise<ForgetItem[]> {
  const ids = (await store.list(userId, filter)).map((record) => record.id);
  const items: ForgetItem[] = [];
  for (let start = 0; start < ids.length; start += GET_BATCH) {
    const hits = await store.get(userId, ids.slice(start, start + GET_BATCH), { embeddings: true, filter });
    for (const hit of hits) items.push({ record: hit.record, embedding: hit.embedding ?? [] });
  }
  return items;
}

/**
 * The plan without its decisions about records changed since they were read. A pass plans from a
 * snapshot (seconds for a large user) while the user's turns go on: a record updated, merged or
 * deleted meanwhile was judged on an old copy, and acting on it would write the old text back (a
 * merge), evict what was just made important (the cap) or delete what was just extended (TTL).
 * Such a record is left alone, and so is the whole near-duplicate group it is in; the next pass
 * judges it afresh. One store read of the records the plan touches; call it after the user's
 * queued writes were applied.
 */
export async function withoutChanged(store: EpisodicStore, userId: string, plan: ForgetPlan, items: readonly ForgetItem[]): Promise<ForgetPlan> {
  const touched = [...new Set([...plan.removals.map((removal) => removal.record.id), ...plan.updates.map((record) => record.id)])];
  if (touched.length === 0) return plan;
  const read = new Map(items.map((item) => [item.record.id, canonical(item.record)]));
  const now = new Map<string, string>();
  try {
    for (let start = 0; start < touched.length; start += GET_BATCH) {
      for (const hit of await store.get(userId, touched.slice(start, start + GET_BATCH))) now.set(hit.record.id, canonical(hit.record));
    }
  } catch (error) {
    // The store went down after the plan was made: nobody can change a record through it now, and
    // the plan's writes wait in the outbox behind any queued before them (docs/forgetting.md).
    if (isEngramError(error, "STORE_UNAVAILABLE") || isEngramError(error, "CHROMA_EXITED")) return plan;
    throw error;
  }
  const changed = new Set(touched.filter((id) => now.get(id) !== read.get(id)));
  if (changed.size === 0) return plan;
  // A merge group is its kept record and the duplicates merged into it: kept or dropped whole.
  const groupOf = (removal: ForgetPlan["removals"][number]): string | undefined => removal.mergedInto;
  const spoiled = new Set<string>();
  for (const removal of plan.removals) {
    const group = groupOf(removal);
    if (group !== undefined && (changed.has(removal.record.id) || changed.has(group))) spoiled.add(group);
  }
  const removals = plan.removals.filter((removal) => {
    if (changed.has(removal.record.id)) return false;
    const group = groupOf(removal);
    return group === undefined || !spoiled.has(group);
  });
  const removed = new Set(removals.map((removal) => removal.record.id));
  return {
    removals,
    updates: plan.updates.filter((record) => !changed.has(record.id) && !spoiled.has(record.id)),
    keptIds: items.filter((item) => !removed.has(item.record.id)).map((item) => item.record.id),
  };
}

/**
 * The plan as writes for the outbox, each with its history entry: the kept records of merges first
 * (an UPDATE with the merged sources, reason "dedupe"), then every removal (a DELETE with its
 * reason: "ttl", "dedupe" or "cap"). Applied in that order, a crash half-way never loses a source:
 * a duplicate is deleted only after the record that took its message ids was written.
 */
export function forgetWriteOps(plan: ForgetPlan, items: readonly ForgetItem[], now: number): WriteOp[] {
  const byId = new Map(items.map((item) => [item.record.id, item]));
  const asRead = (id: string): StoredAs => ({ id, versions: [versionOf(byId.get(id)!.record)] });
  // Each write applies only while what it was decided on is stored as read (writer.ts
  // `ifStoredAs`): a change that lands after `withoutChanged` read the store wins. A merge lands
  // whole or not at all: the kept record takes the group's message ids only while every duplicate
  // is stored as read (one the user changed or deleted meanwhile keeps its own), and a duplicate
  // is deleted only once its kept record is stored as the merge wrote it. "As read" would not do:
  // a user's update of the kept record queued after the merge replaces the merge's write in the
  // outbox (one queued write per record), and the duplicate's message ids were then in no record.
  const merged = new Map(plan.updates.map((record) => [record.id, versionOf(record)]));
  const duplicates = new Map<string, string[]>();
  for (const removal of plan.removals) {
    if (removal.mergedInto !== undefined) duplicates.set(removal.mergedInto, [...(duplicates.get(removal.mergedInto) ?? []), removal.record.id]);
  }
  const ops: WriteOp[] = plan.updates.map((record) => ({
    op: "upsert",
    record,
    embedding: Array.from(byId.get(record.id)!.embedding),
    history: { memoryId: record.id, event: "UPDATE", oldContent: record.content, newContent: record.content, reason: "dedupe", at: now },
    ifStoredAs: [record.id, ...(duplicates.get(record.id) ?? [])].map(asRead),
    // The merge may drop the kept record's expiry (a duplicate lives for good): the store removes
    // the key even when the pass runs in the millisecond the record was made (a fixed clock), where
    // its `updatedAt` alone does not tell it a rewrite.
    replaces: true,
  }));
  for (const removal of plan.removals) {
    const into = removal.mergedInto;
    const ifStoredAs = [asRead(removal.record.id)];
    // A kept record evicted by the cap in the same plan is not written back: as read, then.
    if (into !== undefined && byId.has(into)) ifStoredAs.push({ id: into, versions: [merged.get(into) ?? asRead(into).versions[0]!] });
    ops.push({
      op: "delete",
      id: removal.record.id,
      history: { memoryId: removal.record.id, event: "DELETE", oldContent: removal.record.content, newContent: null, reason: removal.reason, at: now },
      ifStoredAs,
    });
  }
  return ops;
}

export function forgetReport(plan: ForgetPlan, pending: boolean): ForgetReport {
  const count = (reason: string): number => plan.removals.filter((removal) => removal.reason === reason).length;
  return {
    merged: count("dedupe"),
    evicted: count("cap"),
    expired: count("ttl"),
    removedIds: plan.removals.map((removal) => removal.record.id),
    pending,
  };
}
