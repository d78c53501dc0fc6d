/**
 * Read-your-writes without waiting for the drain: a search reads the user's writes still queued in
 * the shared state's outbox and ranks them with what already reached the store (memory/recall.ts),
 * instead of first applying them to the store and waiting (which, under write load, made a search
 * wait for the whole drain queue of its user).
 *
 * Why it keeps read-your-writes, in this process and in any other sharing the state: a write is
 * acknowledged once its row is in the outbox, and its row leaves the outbox only after the store
 * acknowledged the write (writer.ts: apply, then complete). A search reads the outbox first, then
 * the store (the in-process index and the user's store revision). So every write acknowledged
 * before the search began is in the outbox read, or was completed before it, hence was in the
 * store before the store read. A write in both reads (drained in between) counts once: the queued
 * version wins, and it is the same write.
 */
import { EngramError, isEngramError } from "../core/errors.js";
import { describeValue } from "../core/describe.js";
import type { MemoryRecord } from "../core/types.js";
import type { OutboxState, PendingWrite } from "../state/types.js";
import { matchesFilter } from "../store/filter_match.js";
import type { StoreFilter } from "../store/types.js";
import { isStoredAs } from "./erased_updates.js";
import { landedOn } from "./update_rebase.js";
import { safeText, type StoredAs, type UpsertOp, type WriteOp } from "./writer.js";

/**
 * How a search sees the user's writes not yet in the store: `"overlay"` reads them from the outbox
 * and ranks them with the stored ones (the search never waits for the drain); `"drain"` applies
 * them to the store first and waits (the behaviour before the overlay, kept to compare).
 */
export type PendingReads = "overlay" | "drain";

/** A queued upsert as a search ranks it. */
export interface PendingRecord {
  record: MemoryRecord;
  vector: number[];
}

/** A queued upsert as `getAll` and `get` see it (no vector). */
export interface QueuedRecord {
  record: MemoryRecord;
}

/** One queued write, in queue order, with what the drain checks before applying it (writer.ts). */
export type QueuedWrite<T> =
  | { op: "upsert"; id: string; item: T; ifStored: boolean; ifStoredAs: readonly StoredAs[] }
  | { op: "delete"; id: string; ifStoredAs: readonly StoredAs[] };

/** One user's queued writes, as one search sees them. */
export interface PendingView {
  /** Oldest first, as the drain applies them. */
  writes: Array<QueuedWrite<PendingRecord>>;
  /** Outbox rows read (0: nothing queued for the user). */
  rows: number;
}

/** A view with nothing queued. */
export const NOTHING_PENDING: PendingView = { writes: [], rows: 0 };

/** One user's queued writes as `getAll` and `get` see them: {@link PendingView} without vectors. */
export interface QueuedRecords {
  writes: Array<QueuedWrite<QueuedRecord>>;
  rows: number;
}

/** What the queue leaves once drained: records it writes, and records it removes. */
export interface Drained<T> {
  /** The record's last write that lands: it replaces any stored version. */
  upserts: Map<string, T>;
  /** Records whose last write that lands is a delete: never returned. */
  deleted: Set<string>;
}

/** A stored record as a write's condition sees it (erased_updates.ts `versionOf`). */
export type StoredLookup = (id: string) => MemoryRecord | undefined;

/**
 * The user's queued writes replayed over the store as `stored` reads it, as the drain will apply
 * them (writer.ts): oldest first, consecutive writes of one kind as one step whose conditions are
 * checked before the step (the drain's store call and its `staleWrites` check, writer.ts
 * `storeCalls`), an update (`ifStored`) only over a stored record, a write with `ifStoredAs` only
 * while each of its records is stored as one of the versions it names, a caller's update with the
 * sources of the record it lands on. Writes that will be dropped change nothing here.
 */
export function drainedOver<T extends { record: MemoryRecord }>(writes: ReadonlyArray<QueuedWrite<T>>, stored: StoredLookup): Drained<T> {
  // Each record as the steps replayed so far leave it (null: deleted).
  const landed = new Map<string, MemoryRecord | null>();
  const current = (id: string): MemoryRecord | null => (landed.has(id) ? landed.get(id)! : (stored(id) ?? null));
  const holds = (write: QueuedWrite<T>): boolean =>
    (write.op !== "upsert" || !write.ifStored || current(write.id) !== null) &&
    write.ifStoredAs.every((condition) => {
      const now = current(condition.id);
      return now !== null && isStoredAs(condition.versions, now);
    });
  const drained: Drained<T> = { upserts: new Map(), deleted: new Set() };
  for (let start = 0; start < writes.length; ) {
    let end = start + 1;
    while (end < writes.length && writes[end]!.op === writes[start]!.op) end += 1;
    const landing = writes.slice(start, end).filter(holds);
    for (const write of landing) {
      if (write.op === "upsert") {
        // A caller's update lands on the stored record's sources (update_rebase.ts), as the drain does it.
        const item = write.ifStored && write.ifStoredAs.length === 0 ? { ...write.item, record: landedOn(write.item.record, current(write.id)!) } : write.item;
        landed.set(write.id, item.record);
        drained.deleted.delete(write.id);
        drained.upserts.set(write.id, item);
      } else {
        landed.set(write.id, null);
        drained.upserts.delete(write.id);
        drained.deleted.add(write.id);
      }
    }
    start = end;
  }
  return drained;
}

/**
 * The ids whose stored version the queue's conditional writes depend on: a read that shows only
 * some records (`get` of one id, `getAll` narrowed by a filter) looks these up too, so that
 * {@link drainedOver} sees them as the drain will.
 */
export function conditionIds(queued: { writes: ReadonlyArray<QueuedWrite<unknown>> }): string[] {
  const ids = new Set<string>();
  for (const write of queued.writes) {
    if (write.op === "upsert" && write.ifStored) ids.add(write.id);
    for (const condition of write.ifStoredAs) ids.add(condition.id);
  }
  return [...ids];
}

/**
 * The user's records as listed by the store (`list`, read after the outbox), with their queued
 * writes applied as the drain will apply them ({@link drainedOver}), filtered as the list was.
 * `others`: stored records outside the list that the queue's conditions name ({@link conditionIds}).
 * Newest first, as `ChromaStore.list` orders.
 */
export function withQueued(stored: MemoryRecord[], queued: QueuedRecords, filter: StoreFilter, others: readonly MemoryRecord[] = []): MemoryRecord[] {
  if (queued.rows === 0) return stored;
  const byId = new Map([...others, ...stored].map((record) => [record.id, record]));
  const drained = drainedOver(queued.writes, (id) => byId.get(id));
  const records = stored.filter((record) => !drained.deleted.has(record.id) && !drained.upserts.has(record.id));
  // An update's record keeps its kind and scope, so one outside the list stays outside the filter.
  for (const { record } of drained.upserts.values()) if (matchesFilter(record, filter)) records.push(record);
  return records.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
}

/** Checks `recallIndex.pending`. */
export function validatePendingReads(value: unknown): PendingReads {
  if (value === undefined) return "overlay";
  if (value === "overlay" || value === "drain") return value;
  throw new EngramError("INVALID_OPTIONS", `recallIndex.pending must be "overlay" or "drain", got ${describeValue(value)}.`);
}

/** Limits and the record transform of a {@link PendingOverlay}. */
export interface PendingOverlayOptions {
  /** Most row vectors kept over all users. @default 4096 */
  maxVectors?: number;
  /**
   * Most queued texts one search embeds. More than that (a bulk `addMany` still draining, say)
   * and the search waits for the drain instead ({@link PendingOverlay.read} returns undefined): the
   * drain embeds in batches, where one search embedding thousands of texts one at a time would take
   * longer and hold the model against every other request. @default 64
   */
  maxEmbedPerRead?: number;
  /**
   * What the drain does to a record queued with `tagEntities` (writer.ts `tag`), done here too so
   * that a queued record reads as it will be stored. @default none
   */
  tag?: (record: MemoryRecord) => MemoryRecord;
}

/**
 * Reads users' queued writes for search. An upsert queued without a vector (`writes: "background"`
 * leaves the model to the drain) is embedded here, once per outbox row: the row's seq is never
 * reused and its payload never changes (re-queueing a key makes a new row), so the vector is kept
 * by seq until the row leaves the outbox. The texts go through Memory's embedding cache, so the
 * drain then finds them embedded.
 *
 * What is kept is a cache (a row's vector never changes), so dropping any of it changes no read,
 * only costs an embedding. It is dropped when the user's next read no longer finds the row, and
 * also as soon as this process writes the row's record to the store or erases the user
 * ({@link applied}, {@link erased}, told by recall, the store's listener): a drained user who
 * never searches again would otherwise keep the vectors of their last writes for the life of the
 * process (up to `maxVectors`, some 16 MB at 512 dimensions).
 */
export class PendingOverlay {
  /** Vectors of queued rows, per user, by seq; users least recently read first. */
  private readonly vectors = new Map<string, Map<number, KeptVector>>();
  private kept = 0;
  /**
   * Per user, the reads in flight: each collects what this process wrote to the store while it
   * read, whose vectors it must not keep: it read the outbox before those writes removed the rows.
   */
  private readonly reading = new Map<string, Set<WrittenMeanwhile>>();

  private readonly maxVectors: number;
  private readonly maxEmbedPerRead: number;
  private readonly tag: ((record: MemoryRecord) => MemoryRecord) | undefined;

  constructor(
    private readonly outbox: Pick<OutboxState<WriteOp>, "pending">,
    private readonly embed: (texts: string[]) => Promise<number[][]>,
    options: PendingOverlayOptions = {},
  ) {
    this.maxVectors = options.maxVectors ?? 4_096;
    this.maxEmbedPerRead = options.maxEmbedPerRead ?? 64;
    this.tag = options.tag;
  }

  /** A queued upsert's record as the drain will store it. */
  private stored(op: UpsertOp): MemoryRecord {
    const record = safeText(op.record);
    return op.tagEntities && this.tag ? this.tag(record) : record;
  }

  /**
   * The user's queued writes, or undefined when more than `maxEmbedPerRead` of them still need a
   * vector: the caller then drains the user's queue and reads the store alone.
   */
  async read(userId: string): Promise<PendingView | undefined> {
    const written: WrittenMeanwhile = { ids: new Set(), erased: false };
    const reads = this.reading.get(userId) ?? new Set<WrittenMeanwhile>();
    reads.add(written);
    this.reading.set(userId, reads);
    try {
      return await this.viewOf(userId, await this.outbox.pending({ userId }), written);
    } finally {
      reads.delete(written);
      if (reads.size === 0 && this.reading.get(userId) === reads) this.reading.delete(userId);
    }
  }

  /** Vectors kept, over all users (what a long-running process holds here). */
  get keptVectors(): number {
    return this.kept;
  }

  /**
   * This process wrote these records of the user to the store (a drain applied their queued rows):
   * the vectors kept for them leave. A newer row of the same record still queued loses its vector
   * too, and is embedded again if read (the embedding cache usually has it).
   */
  applied(userId: string, upserts: ReadonlyArray<{ record: { id: string } }>, deletes: readonly string[]): void {
    const ids = [...upserts.map((item) => item.record.id), ...deletes];
    for (const written of this.reading.get(userId) ?? []) for (const id of ids) written.ids.add(id);
    const kept = this.vectors.get(userId);
    if (!kept) return;
    const gone = new Set(ids);
    for (const [seq, entry] of kept) {
      if (!gone.has(entry.id)) continue;
      kept.delete(seq);
      this.kept -= 1;
    }
    if (kept.size === 0) this.vectors.delete(userId);
  }

  /** The user was erased (or their index distrusted): nothing of theirs is kept. */
  erased(userId: string): void {
    for (const written of this.reading.get(userId) ?? []) written.erased = true;
    this.drop(userId);
  }

  /**
   * The user's queued writes as records, without vectors (nothing is embedded): for `getAll` and
   * `get`, which then read the store and apply them with {@link withQueued}. Read before the store,
   * for the reason at the top of this file.
   */
  async records(userId: string): Promise<QueuedRecords> {
    const rows = inOrder(await this.outbox.pending({ userId }));
    return { writes: rows.map((row) => queuedWrite(row, (op) => ({ record: this.stored(op) }))), rows: rows.length };
  }

  private async viewOf(userId: string, rows: Array<PendingWrite<WriteOp>>, written: WrittenMeanwhile): Promise<PendingView | undefined> {
    if (rows.length === 0) {
      this.drop(userId);
      return NOTHING_PENDING;
    }
    const ordered = inOrder(rows);
    // Not only each record's latest upsert: a later conditional write of the same record may be
    // dropped, and then an earlier one is what the drain leaves. One that a later write always
    // replaces is never what a read shows, and needs no vector ({@link superseded}).
    const hidden = superseded(ordered);
    const upserts = ordered.filter((row): row is PendingWrite<UpsertOp> => row.payload.op === "upsert" && !hidden.has(row.seq));
    const kept = this.vectors.get(userId);
    const toEmbed = upserts.filter((row) => row.payload.embedding === undefined && kept?.get(row.seq) === undefined).length;
    if (toEmbed > this.maxEmbedPerRead) return undefined;
    const vectors = await this.vectorsOf(userId, upserts, written);
    const bySeq = new Map(upserts.map((row, i) => [row.seq, vectors[i]!]));
    // As the drain will store it: text queued by an older version without text safety is repaired.
    // A superseded upsert still counts for the conditions of the writes after it; its empty vector
    // is never ranked (recall.ts ranks only vectors of the query's size, and it never lands last).
    const writes = ordered.map((row) => queuedWrite(row, (op, seq) => ({ record: this.stored(op), vector: bySeq.get(seq) ?? [] })));
    return { writes, rows: rows.length };
  }

  /** The rows' vectors: the queued one, else one embedded before for the same row, else embedded now (in one call). */
  private async vectorsOf(userId: string, rows: Array<PendingWrite<UpsertOp>>, written: WrittenMeanwhile): Promise<number[][]> {
    const before = this.vectors.get(userId);
    const now = new Map<number, KeptVector>();
    const missing: Array<PendingWrite<UpsertOp>> = [];
    for (const row of rows) {
      const queued = row.payload.embedding;
      if (queued !== undefined) continue;
      const kept = before?.get(row.seq);
      if (kept) now.set(row.seq, kept);
      else missing.push(row);
    }
    // One text per call: a search waits on these, and a heavy model in worker threads serves single
    // texts ahead of background batches such as the drain's (embeddings/local.ts).
    for (const row of missing) now.set(row.seq, { id: row.payload.record.id, vector: this.embed([safeText(row.payload.record).content]).then((vectors) => vectors[0]!) });
    // Rows gone from the outbox are forgotten here: only the rows just read stay, less those whose
    // record this process wrote to the store while the outbox was read (their rows are gone now).
    this.drop(userId);
    const keep = new Map(written.erased ? [] : [...now].filter(([, entry]) => !written.ids.has(entry.id)));
    if (keep.size > 0) {
      this.vectors.set(userId, keep);
      this.kept += keep.size;
      this.evict(userId);
    }
    // A text the model refuses (EMBEDDING_FAILED: it throws on that text, or answers NaN for it)
    // gets no vector here, so the read ranks that row by its words alone: the row waits in the
    // outbox until the model takes it, and every search of the user had failed meanwhile.
    const refused = new Set<number>();
    const vectorOf = async (row: PendingWrite<UpsertOp>): Promise<number[]> => {
      if (row.payload.embedding !== undefined) return row.payload.embedding;
      try {
        return await now.get(row.seq)!.vector;
      } catch (error) {
        if (!isEngramError(error) || error.code !== "EMBEDDING_FAILED") throw error;
        refused.add(row.seq);
        return [];
      }
    };
    try {
      const vectors = await Promise.all(rows.map(vectorOf));
      // A failed embedding is not kept: the next read tries again.
      if (refused.size > 0 && this.vectors.get(userId) === keep) this.forget(userId, keep, refused);
      return vectors;
    } catch (error) {
      if (this.vectors.get(userId) === keep) this.drop(userId);
      throw error;
    }
  }

  /** Drops the kept vectors of these rows of the user. */
  private forget(userId: string, kept: Map<number, KeptVector>, seqs: Set<number>): void {
    for (const seq of seqs) if (kept.delete(seq)) this.kept -= 1;
    if (kept.size === 0) this.vectors.delete(userId);
  }

  private drop(userId: string): void {
    const kept = this.vectors.get(userId);
    if (!kept) return;
    this.kept -= kept.size;
    this.vectors.delete(userId);
  }

  private evict(keep: string): void {
    for (const userId of this.vectors.keys()) {
      if (this.kept <= this.maxVectors) return;
      if (userId !== keep) this.drop(userId);
    }
  }
}

/** A queued row's vector, with the record it writes (what the store's writes are told by). */
interface KeptVector {
  id: string;
  vector: Promise<number[]>;
}

/** What this process wrote of a user while one read of theirs was in flight. */
interface WrittenMeanwhile {
  /** Records written to the store. */
  ids: Set<string>;
  /** The user was erased: the read keeps nothing. */
  erased: boolean;
}

/** The rows in the order the drain applies them. */
function inOrder(rows: Array<PendingWrite<WriteOp>>): Array<PendingWrite<WriteOp>> {
  return [...rows].sort((a, b) => a.seq - b.seq);
}

/**
 * The seqs of upserts that a later write of the same record always replaces: one with no condition
 * (neither `ifStored` nor `ifStoredAs`), which the drain never drops.
 */
function superseded(rows: ReadonlyArray<PendingWrite<WriteOp>>): Set<number> {
  const replaced = new Set<number>();
  const certain = new Set<string>();
  for (let i = rows.length - 1; i >= 0; i -= 1) {
    const op = rows[i]!.payload;
    const id = op.op === "upsert" ? op.record.id : op.id;
    if (op.op === "upsert" && certain.has(id)) replaced.add(rows[i]!.seq);
    const conditional = (op.ifStoredAs?.length ?? 0) > 0 || (op.op === "upsert" && op.ifStored === true);
    if (!conditional) certain.add(id);
  }
  return replaced;
}

/** A row as {@link drainedOver} replays it; `item` makes an upsert's record (and vector) as reads see it. */
function queuedWrite<T>(row: PendingWrite<WriteOp>, item: (op: UpsertOp, seq: number) => T): QueuedWrite<T> {
  const op = row.payload;
  const ifStoredAs = op.ifStoredAs ?? [];
  if (op.op === "delete") return { op: "delete", id: op.id, ifStoredAs };
  return { op: "upsert", id: op.record.id, item: item(op, row.seq), ifStored: op.ifStored === true, ifStoredAs };
}
