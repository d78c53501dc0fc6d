/**
 * What a caller's `update()` owns of the record it writes, and what it takes from the record as
 * stored when its write lands. `update()` reads the record, applies the caller's change and queues
 * the whole record; by the time the drain applies it, a forgetting pass may have merged
 * near-duplicates into that record (memory/forget_ops.ts): the kept record then carries the
 * group's message ids and latest access, and the duplicates are deleted. Written as read, the
 * update put the kept record's old sources back and the duplicates' message ids were gone from
 * every record (memory/update_merge_race.int.test.ts).
 *
 * The caller's change is its text, importance, metadata and expiry (records.ts `patched`), never
 * its sources or its last access: those belong to whoever wrote them last through Engram (the add
 * that stored it, a merge), so the drain, under the user's drain lock, takes them from the stored
 * record the update lands on. Nothing else of the caller's change moves.
 */
import type { MemoryRecord } from "../core/types.js";
import type { UpsertOp, WriteOp } from "./writer.js";

/**
 * A write queued by `update()`: an upsert applied only over a stored record (`ifStored`) on no
 * other condition (fact reconciliation's updates carry `ifStoredAs` too: a decision of Engram's
 * own, written whole as decided, which may be overtaken silently). Its caller was answered with
 * the updated record, so dropping it is reported (write_policy.ts).
 */
export function isCallerUpdate(op: WriteOp): op is UpsertOp {
  return op.op === "upsert" && op.ifStored === true && (op.ifStoredAs?.length ?? 0) === 0;
}

/**
 * The history reasons of Engram's own decisions about a stored record, written with `ifStoredAs`:
 * a forgetting merge's write of its kept record, a fact's invalidation or reconciliation.
 */
const DECISIONS: ReadonlySet<string> = new Set(["dedupe", "invalidate", "reconcile"]);

/** An UPDATE entry of one of Engram's own decisions ({@link DECISIONS}). */
export function isDecision(entry: { event: string; reason: string | null }): boolean {
  return entry.event === "UPDATE" && entry.reason !== null && DECISIONS.has(entry.reason);
}

/** The caller's update `op` as it lands on `stored`: the stored record's sources and last access, in place. */
export function landOn(op: UpsertOp, stored: MemoryRecord): void {
  op.record = landedOn(op.record, stored);
}

/** A caller's updated `record` with the sources and last access of the `stored` record it lands on. */
export function landedOn(record: MemoryRecord, stored: MemoryRecord): MemoryRecord {
  const source = { ...stored.source };
  if (stored.source.messageIds) source.messageIds = [...stored.source.messageIds];
  return { ...record, source, lastAccessedAt: stored.lastAccessedAt };
}
