/**
 * Replay detection for `add`: a record whose id is already live (stored, or queued and not yet
 * drained) is a replay, and the stored one is kept; nothing is written for it.
 */
import { EngramError } from "../core/errors.js";
import type { HistoryEntry, MemoryRecord } from "../core/types.js";
import type { HistoryState } from "../state/types.js";
import type { Recall } from "./recall.js";
import { isExpired } from "./records.js";
import type { Writer } from "./writer.js";

/**
 * Where liveness is read: the outbox (through the writer), the history log and the store (through
 * recall, whose in-process index answers for it with no round trip when current).
 */
export interface ReplaySources {
  writer: Writer;
  history: HistoryState;
  recall: Pick<Recall, "find">;
}

/**
 * The records of `records` to write. A replay keeps its first time (records are changed in place:
 * the caller returns them as stored); a record the history calls live but the store lost (another
 * data folder sharing the server deleted it) is written again at `now` plus its position.
 *
 * A live record past its `expiresAt` is gone for every read, and forgetting's TTL rule deletes it:
 * said again, it is no replay but a new memory under the same id, written at `now` plus its
 * position and added to `renewed`. Its row may still be stored with keys the new record does not
 * have (the old `expiresAt`, metadata keys), which its write must remove (`UpsertOp.replaces`):
 * before, nothing was written, `add` returned the new expiry as if stored, and the memory stayed
 * expired and was deleted by the next pass.
 */
export async function freshRecords(
  sources: ReplaySources,
  userId: string,
  records: MemoryRecord[],
  now: number,
  warnings: string[] = [],
  renewed: Set<MemoryRecord> = new Set(),
): Promise<MemoryRecord[]> {
  if (records.length === 0) return [];
  // One outbox read and one history read for the whole call (an import checks 10k records): no
  // write of this call happens before both are read, so they see what reads one by one saw.
  const ids = records.map((record) => record.id);
  const [queuedById, historyById] = await Promise.all([sources.writer.queuedMany(userId, ids), sources.history.forMemories(ids, userId)]);
  const fresh: MemoryRecord[] = [];
  const liveByHistory: MemoryRecord[] = [];
  const differing: MemoryRecord[] = [];
  /** Written as new, at `now` plus its position in the call. */
  const writeAnew = (record: MemoryRecord): void => {
    record.createdAt = record.updatedAt = record.lastAccessedAt = now + records.indexOf(record);
    fresh.push(record);
  };
  const renew = (record: MemoryRecord): void => {
    writeAnew(record);
    renewed.add(record);
  };
  for (const record of records) {
    const queued = queuedById.get(record.id);
    const entries = historyById.get(record.id) ?? NO_ENTRIES;
    const live = queued ? queued.op === "upsert" : isLive(entries);
    if (!live) {
      fresh.push(record);
      continue;
    }
    if (queued?.op === "upsert" && isExpired(queued.record, now)) {
      renew(record);
      continue;
    }
    if (!queued) liveByHistory.push(record);
    // A replay keeps the live text: when that is another text (updated since, or a new text given
    // an id in use), the caller's text is not stored, and is told so.
    const liveContent = queued?.op === "upsert" ? queued.record.content : entries[entries.length - 1]?.newContent;
    if (typeof liveContent === "string" && liveContent !== record.content) differing.push(record);
    const firstAt = entries.find((entry) => entry.event === "ADD")?.at ?? (queued?.op === "upsert" ? queued.record.createdAt : undefined);
    if (firstAt !== undefined) record.createdAt = record.updatedAt = record.lastAccessedAt = firstAt;
  }
  const { gone, expired } = await notStoredLive(sources, userId, liveByHistory, now);
  for (const record of gone) writeAnew(record);
  for (const record of expired) renew(record);
  const written = new Set(fresh);
  for (const record of differing) {
    if (written.has(record)) continue; // the store had lost it: written again
    warnings.push(`Memory ${record.id} already exists with other content; it is kept as it is and this text was not stored (update() changes it).`);
  }
  return fresh;
}

const NO_ENTRIES: readonly HistoryEntry[] = [];

/**
 * Of records this state's history calls live, those no longer in the store (`gone`: an instance on
 * another data folder sharing the server deleted them, its history is its own), added again rather
 * than taken for replays; and those stored past their `expiresAt` (`expired`), renewed. During an
 * outage, history is trusted.
 */
async function notStoredLive(
  { recall }: ReplaySources,
  userId: string,
  records: MemoryRecord[],
  now: number,
): Promise<{ gone: MemoryRecord[]; expired: MemoryRecord[] }> {
  if (records.length === 0) return { gone: [], expired: [] };
  const ids = records.map((record) => record.id);
  let stored: Map<string, MemoryRecord>;
  try {
    // The consolidate node's evicted exchange, stored by remember a few turns before, is such a
    // record: on a warm user the index answers, and the turn makes no store round trip for it.
    stored = new Map((await recall.find(userId, ids)).map((record) => [record.id, record]));
  } catch (error) {
    if (error instanceof EngramError && error.code === "STORE_UNAVAILABLE") return { gone: [], expired: [] };
    throw error;
  }
  return {
    gone: records.filter((record) => !stored.has(record.id)),
    expired: records.filter((record) => {
      const copy = stored.get(record.id);
      return copy !== undefined && isExpired(copy, now);
    }),
  };
}

function isLive(entries: readonly HistoryEntry[]): boolean {
  const last = entries[entries.length - 1];
  return last !== undefined && last.event !== "DELETE";
}
