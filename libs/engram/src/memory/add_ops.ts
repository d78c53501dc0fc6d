/**
 * What `add` and `addMany` share once their records are built and known fresh: the outbox's upsert
 * of each record (with its vector when the write mode computed one, its history entry at the
 * record's own time) and the fact-extraction jobs, one per scope. `add` is one call of `addMany`
 * with one item: both go through here, so the two paths cannot drift apart.
 */
import type { MemoryRecord, Scope } from "../core/types.js";
import type { LeaseState } from "../state/types.js";
import type { WriteOp } from "./writer.js";

/** The user's lock under which an add of explicit ids reads which are live and queues the rest. */
export const EXPLICIT_ID_LOCK = "explicit-id";

/**
 * Runs `step` (read which of the call's records are live, then queue the fresh ones) under the
 * user's {@link EXPLICIT_ID_LOCK}, held by every instance on the state, when the call names an
 * explicit id. An explicit id names one record whatever its text: without the lock, two adds of
 * one id with two texts (in one process, or two on shared state) both read the id as free and
 * both queued an ADD, and the later text replaced the earlier one. Under it, the second reads the
 * first one's queued write and is a replay: its text is not stored, and it is told so (replay.ts).
 * A derived id names its text, so adds without explicit ids do not pay for the lock.
 */
export function underIdLock<R>(leases: LeaseState, userId: string, explicitIds: boolean, step: () => Promise<R>): Promise<R> {
  return explicitIds ? leases.exclusive(userId, EXPLICIT_ID_LOCK, step) : step();
}

/** A fresh record to store, with what its write needs. */
export interface AddWrite {
  record: MemoryRecord;
  /** The scope of the call (or item) that made it: facts extracted from it are stored there. */
  scope: Scope;
  /** When it was said: its history entry's time. */
  at: number;
  /** The drain tags its entities (`entities.extract`). */
  tagEntities: boolean;
  /** Facts are extracted from it (`infer`, for its kind). */
  infer: boolean;
  /** An expired memory said again: its stored row's keys the record lacks are removed (replay.ts). */
  replaces?: boolean;
}

/**
 * The upserts of `writes`, in order; `vectors[i]` is the vector of `writes[i]` when the write mode
 * computed it on the call's path (absent: embedded when drained).
 */
export function addUpserts(writes: readonly AddWrite[], vectors: ReadonlyArray<number[] | undefined>): WriteOp[] {
  return writes.map(({ record, at, tagEntities, replaces }, i) => {
    const vector = vectors[i];
    return {
      op: "upsert",
      record,
      ...(vector !== undefined ? { embedding: vector } : {}),
      ...(tagEntities ? { tagEntities: true } : {}),
      ...(replaces ? { replaces: true } : {}),
      history: { memoryId: record.id, event: "ADD", oldContent: null, newContent: record.content, reason: "add", at },
    };
  });
}

/**
 * The fact-extraction jobs of `writes`: one per scope (agent and thread), its records in order, as
 * `add` records one job per call. Records not to infer from are left out.
 */
export function extractionJobs(writes: readonly AddWrite[]): Array<{ scope: Scope; records: MemoryRecord[] }> {
  const jobs = new Map<string, { scope: Scope; records: MemoryRecord[] }>();
  for (const { scope, record, infer } of writes) {
    if (!infer) continue;
    const key = JSON.stringify([scope.agentId, scope.threadId]);
    const job = jobs.get(key) ?? { scope, records: [] };
    job.records.push(record);
    jobs.set(key, job);
  }
  return [...jobs.values()];
}
