/**
 * Finds the queued updates whose memory is gone: another instance deleted it, or erased its user,
 * between the update's existence check and the queueing of its write. The drain (writer.ts) drops
 * them unapplied instead of bringing a deleted memory back; the update is ordered before the
 * delete it overlapped, which is a valid order for two concurrent calls.
 */
import type { PendingWrite } from "../state/types.js";
import type { EpisodicStore } from "../store/types.js";
import type { UpsertOp, WriteOp } from "./writer.js";

/**
 * The seqs of upserts in `group` marked `ifStored` (queued by `update()`, which read the record
 * from the store) whose record is no longer stored. Only such writes are checked: a write whose
 * record may never have been stored (an add, or an update of a fact still queued) is always
 * applied. Costs one store read, only for a group holding a marked write.
 */
export async function updatesOfErased(store: EpisodicStore, userId: string, group: Array<PendingWrite<WriteOp>>): Promise<Set<number>> {
  const isUpdate = (op: WriteOp): op is UpsertOp => op.op === "upsert" && op.ifStored === true;
  const updates = group.filter((row) => isUpdate(row.payload));
  if (updates.length === 0) return new Set();
  const ids = [...new Set(updates.map((row) => (row.payload as UpsertOp).record.id))];
  const stored = new Set((await store.get(userId, ids)).map((hit) => hit.record.id));
  // One queued write per (user, key): a group never holds two upserts of one record.
  return new Set(updates.filter((row) => !stored.has((row.payload as UpsertOp).record.id)).map((row) => row.seq));
}
