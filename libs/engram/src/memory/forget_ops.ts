/**
 * Carries out a forgetting plan: loads a user's records for `planForget` and turns its decisions
 * into outbox writes and a report.
 */
import type { ForgetItem, ForgetPlan, ForgetReport } from "../consolidation/forget.js";
import type { EpisodicStore, StoreFilter } from "../store/types.js";
import type { WriteOp } from "./writer.js";

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
 * The plan as writes for the outbox, each with its history entry: the kept records of merges first
 * (an UPDATE with the merged sources, reason "dedupe"), then every removal (a DELETE with its
 * reason: "ttl", "dedupe" or "cap"). Applied in that order, a crash half-way never loses a source:
 * a duplicate is deleted only after the record that took its message ids was written.
 */
export function forgetWriteOps(plan: ForgetPlan, items: readonly ForgetItem[], now: number): WriteOp[] {
  const byId = new Map(items.map((item) => [item.record.id, item]));
  const ops: WriteOp[] = plan.updates.map((record) => ({
    op: "upsert",
    record,
    embedding: Array.from(byId.get(record.id)!.embedding),
    history: { memoryId: record.id, event: "UPDATE", oldContent: record.content, newContent: record.content, reason: "dedupe", at: now },
  }));
  for (const removal of plan.removals) {
    ops.push({
      op: "delete",
      id: removal.record.id,
      history: { memoryId: removal.record.id, event: "DELETE", oldContent: removal.record.content, newContent: null, reason: removal.reason, at: now },
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
