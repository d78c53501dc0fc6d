/**
 * The write path's last step: store writes queued in the outbox of the shared state are applied to
 * the store, oldest first, and completed together with their history.
 */
import { EngramError, isEngramError, type EngramErrorCode } from "../core/errors.js";
import { repairText } from "../core/text.js";
import type { HistoryEvent, MemoryRecord } from "../core/types.js";
import type { LeaseState, NewHistoryEntry, OutboxState, PendingWrite } from "../state/types.js";
import type { EpisodicStore } from "../store/types.js";
import { staleWrites } from "./erased_updates.js";
import { isCallerUpdate, isDecision } from "./update_rebase.js";

export { isCallerUpdate };

/** What happened, for the history log, applied together with the write. */
export interface HistoryNote {
  memoryId: string;
  event: HistoryEvent;
  oldContent: string | null;
  newContent: string | null;
  reason: string;
  /** When the change was made (not when an outage let it reach the store). */
  at: number;
}

/**
 * An upsert as kept in the outbox. With `writes: "background"` it may be queued without its vector,
 * which is then computed when drained: the model, the slowest part of a write, runs after the
 * caller's `add` has returned.
 */
export interface UpsertOp {
  op: "upsert";
  record: MemoryRecord;
  /** Absent: embedded when drained. */
  embedding?: number[];
  history: HistoryNote | null;
  /** Apply only while the record is stored (set by `update()`, which read it from the store). */
  ifStored?: boolean;
  /** Apply only while these records are stored as they were read ({@link StoredAs}). */
  ifStoredAs?: StoredAs[];
  /**
   * True: the record's `metadata.entities` is tagged when drained ({@link WriterInput.tag}), off
   * the caller's path: the tagger costs milliseconds a text, more than the rest of an `add`.
   * Absent: the metadata is final.
   */
  tagEntities?: boolean;
  /**
   * True: the record's id may be stored with keys this record lacks (an expired memory said
   * again, replay.ts): the store removes them. Absent: a new id, or a rewrite the store detects
   * by its `updatedAt`.
   */
  replaces?: boolean;
}

/**
 * A condition of a write decided on a copy read earlier (a forgetting pass, a fact's
 * reconciliation): the record `id` must be stored as one of `versions` (erased_updates.ts `versionOf`) when
 * the drain applies the write, else the write is dropped unapplied. Checked under the user's drain
 * lock, so a change that lands between the decision and the drain (the user's update, another
 * replica's) always wins over it.
 */
export interface StoredAs {
  id: string;
  versions: string[];
}

/** A delete, as kept in the outbox. */
export interface DeleteOp {
  op: "delete";
  id: string;
  history: HistoryNote | null;
  /** Apply only while these records are stored as they were read ({@link StoredAs}). */
  ifStoredAs?: StoredAs[];
}

/** One pending store write, as kept in the outbox. */
export type WriteOp = UpsertOp | DeleteOp;


export interface DrainResult {
  applied: number;
  pending: number;
  /** The outage that stopped the drain, if one did (its writes are kept pending). */
  error?: EngramError;
  /** Outbox sequence numbers of the writes that failed (kept pending). */
  failed?: number[];
  /**
   * Writes the store refused for good, each alone, while it took others: dropped from the outbox
   * (the drain went on past them), with the store's error. Their batch-mates were applied.
   */
  refused?: RefusedWrite[];
  /** Outbox sequence numbers of the writes this drain applied to the store. */
  written?: number[];
  /**
   * Callers' updates ({@link isCallerUpdate}) this drain applied, each with its record as stored:
   * with the sources and last access of the record it landed on (update_rebase.ts).
   */
  updated?: Array<{ seq: number; record: MemoryRecord }>;
  /**
   * Writes this drain dropped unapplied because what they were decided on changed (erased_updates.ts):
   * an update of a memory deleted meanwhile, a forgetting or fact decision made on an old copy.
   */
  dropped?: DroppedWrite[];
  /**
   * Upserts whose text the model refused (it threw for that text alone, or answered a bad vector
   * for it, while it answered the others), with the writes of the same records queued after them:
   * kept queued, in order, for the next drain; the rest of the user's writes went on past them.
   */
  held?: HeldWrite[];
}

/** A write left queued because its text (or an earlier queued write of its record's) could not be embedded. */
export interface HeldWrite {
  seq: number;
  userId: string;
  /** The record written or deleted. */
  id: string;
  error: EngramError;
}

/** A queued write the drain dropped unapplied, its record gone or changed since it was decided. */
export interface DroppedWrite {
  seq: number;
  userId: string;
  /** The record written or deleted. */
  id: string;
  /** A caller's `update()` ({@link isCallerUpdate}): someone was told it would be stored. */
  update: boolean;
}

/** A write the store refused on its own (not an outage), dropped so it cannot block later ones. */
export interface RefusedWrite {
  seq: number;
  userId: string;
  /** The record written or deleted. */
  id: string;
  error: EngramError;
}

/**
 * Errors that may be the record's fault: the group is retried in halves to find the records the
 * store refuses. Anything else (the store unreachable or exited, the model failing, a mismatch of
 * embeddings, a closed database) stops the drain and keeps every write pending.
 */
const REFUSALS: ReadonlySet<EngramErrorCode> = new Set<EngramErrorCode>([
  "STORE_ERROR",
  "INVALID_SCOPE",
  "INVALID_USER_ID",
  "INVALID_CONTENT",
  "INVALID_METADATA",
  "INVALID_ID",
  "CONTENT_TOO_LARGE",
]);

type Row = PendingWrite<WriteOp>;

/** What the drains of one `drain()` call add up to. */
interface Tally {
  applied: number;
  refused: RefusedWrite[];
  written: number[];
  dropped: DroppedWrite[];
  updated: Array<{ seq: number; record: MemoryRecord }>;
  /** By seq: a write held in an earlier batch of the drain is not embedded again in a later one. */
  held: Map<number, HeldWrite>;
}

/** What readying a group for the store came to ({@link Writer.prepare}). */
interface Prepared {
  /** What stops the drain (the model failing for every text, the state, the folder's model guard). */
  error?: EngramError;
  /** Upserts whose text alone the model refused: left without a vector, held. */
  refused: Map<UpsertOp, EngramError>;
}

/** What a {@link Writer} works with. */
export interface WriterInput {
  /** The outbox of the shared state. */
  outbox: OutboxState<WriteOp>;
  store: EpisodicStore;
  /** Embeds the texts of upserts queued without a vector; a failure keeps them pending. */
  embed: (texts: string[]) => Promise<number[][]>;
  /**
   * Completes a record queued with `tagEntities` (its entities tagged into the metadata).
   * @default none: such records are stored as queued
   */
  tag?: (record: MemoryRecord) => MemoryRecord;
  /** Told of every write that reached the store (keeps in-process indexes current); upserts carry their vector. */
  onApplied?: (userId: string, ops: WriteOp[]) => void;
  /**
   * The shared state's per-user locks: each batch of a user is read, applied and completed under
   * the user's {@link DRAIN_LOCK}, so drains of one user never overlap across instances.
   * @default none (drains are serial in this process only)
   */
  leases?: Pick<LeaseState, "exclusive"> & Partial<Pick<LeaseState, "settled">>;
}

/**
 * The per-user exclusive section (`LeaseState.exclusive`) of a drain step and of `deleteAll`'s
 * erase. Without it, instance A could read a batch holding `upsert:X`, instance B apply that
 * upsert and a later `delete:X`, and A's stale upsert (its key was still queued when A took its
 * write lease) land after B's delete: the deleted record would come back. Lock order: a section
 * holding the user's `"facts"` lock may take `"drain"` (fact runs write through the writer), never
 * the reverse, and nothing drains while holding `"drain"`.
 */
export const DRAIN_LOCK = "drain";

/** How long a single write the store refused waits before its second and last try. */
const RETRY_DELAY_MS = 100;

/**
 * Writes a drain step reads, applies and completes at once: one lock, one store call (plus its
 * revision append) and one state transaction for up to this many writes of a user. Below the
 * Chroma client's 5,461 rows per call; large enough that a bulk import's per-call costs vanish.
 */
const DRAIN_BATCH = 2_000;

/**
 * Upserts per store call within a drain step: small enough that the next call's tagging and
 * embedding overlap this one's time in the store, large enough that per-call costs stay small
 * (a bulk import of 10k turns drained 1.3-1.4 times faster in calls of 1,000 than of 250, with
 * less of Chroma's CPU per record: docs/benchmarks.md, ingest).
 */
const STORE_CALL = 1_000;

/** Texts per model call when the drain embeds a group: it yields to the event loop between calls. */
const EMBED_SLICE = 200;

/** Tagging runs this long at most before the drain yields to the event loop (other calls' turns). */
const TAG_SLICE_MS = 10;

/**
 * Every store write goes through the durable outbox: it is first recorded in the shared state, then
 * applied to the store, then marked done together with its history entry, in one transaction. A store
 * outage leaves it pending, and the next drain replays it. Writes are idempotent (upsert by
 * deterministic id, delete by id), so a replay after a crash never duplicates.
 */
export class Writer {
  /**
   * Drains of one user run one at a time per process, so a write is never applied twice
   * concurrently; drains of different users run side by side (their outbox rows never overlap), so
   * a user's search, which drains that user's writes first, never queues behind every other user's.
   */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** The last drain of every user (`drain()` without a user): it waits for all, and all wait for it. */
  private everyone: Promise<unknown> = Promise.resolve();

  /**
   * Each user's drain that is queued and not started yet. A drain reads the outbox when it starts,
   * so a later call shares it instead of queueing another behind it: a run of one-turn adds whose
   * drains pile up while the store is busy costs one drain, not one each.
   */
  private readonly waiting = new Map<string, Promise<DrainResult>>();

  private readonly outbox: OutboxState<WriteOp>;

  private readonly store: EpisodicStore;

  private readonly embed: (texts: string[]) => Promise<number[][]>;

  private readonly onApplied?: (userId: string, ops: WriteOp[]) => void;

  private readonly tag?: (record: MemoryRecord) => MemoryRecord;

  private readonly leases?: Pick<LeaseState, "exclusive"> & Partial<Pick<LeaseState, "settled">>;

  /** Probes made: each probe's text is new, so that the embedding cache never answers one. */
  private probes = 0;

  constructor(input: WriterInput) {
    this.outbox = input.outbox;
    this.store = input.store;
    this.embed = input.embed;
    this.onApplied = input.onApplied;
    this.tag = input.tag;
    this.leases = input.leases;
  }

  /**
   * Records writes durably; they reach the store on the next drain. Each carries its history entry
   * beside the payload: a later write of the same record that replaces it in the queue (another
   * update, on this replica or another, before this one drained) records it when it is applied.
   */
  enqueue(userId: string, ops: WriteOp[]): Promise<number[]> {
    // A write decided on a copy read earlier (`ifStoredAs`) never replaces a queued write of its
    // record: that is a change made since, which must win (the drain's check sees only the store).
    return this.outbox.enqueue(
      ops.map((payload) => ({ userId, key: keyOf(payload), payload, history: ownEntry(userId, payload), ...(payload.ifStoredAs ? { keepQueued: true } : {}) })),
    );
  }

  /** Drops writes that the store refused for good (not an outage), so they cannot block others. */
  async discard(seqs: number[]): Promise<void> {
    await this.outbox.complete(seqs);
  }

  /** Applies pending writes (of one user, or of all), oldest first; stops at an outage. */
  drain(userId?: string): Promise<DrainResult> {
    if (userId === undefined) {
      const run = Promise.all([this.everyone, ...this.chains.values()]).then(() => this.drainNow());
      this.everyone = run.catch(() => undefined);
      return run;
    }
    const queued = this.waiting.get(userId);
    if (queued) return queued;
    const run: Promise<DrainResult> = Promise.all([this.chains.get(userId), this.everyone]).then(() => {
      // Started: writes queued from now on are not in what it reads, so later calls queue anew.
      if (this.waiting.get(userId) === run) this.waiting.delete(userId);
      return this.drainNow(userId);
    });
    this.waiting.set(userId, run);
    const settled = run.catch(() => undefined);
    this.chains.set(userId, settled);
    // Forgotten once done, so the map holds only users with a drain in flight.
    void settled.then(() => {
      if (this.chains.get(userId) === settled) this.chains.delete(userId);
      if (this.waiting.get(userId) === run) this.waiting.delete(userId);
    });
    return run;
  }

  /** Resolves when no drain is running or queued in this process. */
  async idle(): Promise<void> {
    for (;;) {
      const pending = [this.everyone, ...this.chains.values()];
      await Promise.all(pending);
      if (this.chains.size === 0 && pending[0] === this.everyone) return;
      // A drain was queued meanwhile, or a finished user's entry is not yet removed: look again.
      await new Promise<void>((done) => setImmediate(done));
    }
  }

  /**
   * The latest queued write of each of a user's records that has one pending, in one outbox read:
   * an upsert (the record as it will be stored) or a delete. What history will say once the queue
   * is drained.
   */
  async queuedMany(userId: string, ids: readonly string[]): Promise<Map<string, WriteOp>> {
    const keys: string[] = [];
    for (const id of ids) keys.push(`upsert:${id}`, `delete:${id}`);
    const latest = new Map<string, PendingWrite<WriteOp>>();
    for (const write of await this.outbox.findMany(userId, keys)) {
      // The key is "upsert:<id>" or "delete:<id>"; of the two, the later write is what history will say.
      const id = write.key.slice(write.key.indexOf(":") + 1);
      const other = latest.get(id);
      if (!other || write.seq > other.seq) latest.set(id, write);
    }
    const ops = new Map<string, WriteOp>();
    for (const [id, write] of latest) ops.set(id, write.payload);
    return ops;
  }

  /**
   * Fills in, in place, the vectors of upserts that `add` queued without one (`writes:
   * "background"`). A text the model refuses alone is left without one and put in `refused`.
   */
  private async embedMissing(upserts: UpsertOp[], refused: Map<UpsertOp, EngramError>): Promise<void> {
    const missing = upserts.filter((op) => op.embedding === undefined);
    const model: ModelSeen = {};
    // In slices, yielding between them: a model that computes on this thread (the static one) would
    // otherwise hold the event loop for a whole group, and with it the store call in flight.
    for (let start = 0; start < missing.length; start += EMBED_SLICE) {
      if (start > 0) await afterSend();
      await this.embedIsolating(missing.slice(start, start + EMBED_SLICE), refused, model);
    }
  }

  /**
   * One model call for `ops`; when the model fails it (`EMBEDDING_FAILED`: it threw, or answered a
   * bad vector for one text, which fails the whole call) while it answers a probe, each half
   * again, down to single texts, as {@link isolate} does with the store's refusals: one text the
   * model refuses (a provider's content filter, a text that makes it answer NaN) never holds its
   * batch-mates. A model that fails the probe too is down: the error stops the drain, every write
   * kept queued, after two calls rather than one per text. A deadline passed is not isolated: a
   * model that hangs would cost a deadline per half.
   */
  private async embedIsolating(ops: UpsertOp[], refused: Map<UpsertOp, EngramError>, model: ModelSeen): Promise<void> {
    try {
      const vectors = await this.embed(ops.map((op) => op.record.content));
      ops.forEach((op, i) => {
        op.embedding = vectors[i];
      });
      model.answers = true;
    } catch (caught) {
      const error = asStoreError(caught);
      if (error.code !== "EMBEDDING_FAILED" || "timeoutMs" in error.details) throw error;
      model.answers ??= await this.probeModel();
      if (!model.answers) throw error;
      if (ops.length === 1) {
        refused.set(ops[0]!, error);
        return;
      }
      const mid = Math.ceil(ops.length / 2);
      await this.embedIsolating(ops.slice(0, mid), refused, model);
      await this.embedIsolating(ops.slice(mid), refused, model);
    }
  }

  /**
   * Whether the model answers a text no user wrote: then what it failed was the texts, not the
   * model. A new text each time: the embedding cache would answer a repeated one without the model.
   */
  private probeModel(): Promise<boolean> {
    this.probes += 1;
    return this.embed([`Engram checks that the embedding model answers (${Date.now()}.${this.probes})`]).then(
      () => true,
      () => false,
    );
  }

  /** Tags, in place, the records queued with `tagEntities`, yielding to the event loop between slices. */
  private async tagMissing(upserts: UpsertOp[]): Promise<void> {
    let slice = performance.now();
    for (const op of upserts) {
      if (!op.tagEntities) continue;
      if (this.tag) op.record = this.tag(op.record);
      delete op.tagEntities;
      if (performance.now() - slice > TAG_SLICE_MS) {
        await new Promise<void>((done) => setImmediate(done));
        slice = performance.now();
      }
    }
  }

  pendingCount(userId?: string): Promise<number> {
    return this.outbox.size(userId);
  }

  private async drainNow(userId?: string): Promise<DrainResult> {
    const tally: Tally = { applied: 0, refused: [], written: [], dropped: [], updated: [], held: new Map() };
    const result = async (extra: Partial<DrainResult> = {}): Promise<DrainResult> => ({
      applied: tally.applied,
      pending: await this.outbox.size(userId),
      ...(tally.refused.length > 0 ? { refused: tally.refused } : {}),
      ...(tally.written.length > 0 ? { written: tally.written } : {}),
      ...(tally.dropped.length > 0 ? { dropped: tally.dropped } : {}),
      ...(tally.updated.length > 0 ? { updated: tally.updated } : {}),
      ...(tally.held.size > 0 ? { held: [...tally.held.values()] } : {}),
      ...extra,
    });
    if (userId !== undefined) return result(await this.drainUser(userId, tally));
    // Everyone: user by user, each under their own lock (a batch of several users read outside
    // the locks would be stale by the time it is applied).
    for (;;) {
      // Users with writes not held: a held write waits for the next drain (a read of one more
      // batch's worth sees past the held ones, the oldest rows).
      const rows = await this.outbox.pending({ limit: DRAIN_BATCH + tally.held.size });
      const users = [...new Set(rows.filter((row) => !tally.held.has(row.seq)).map((row) => row.userId))];
      if (users.length === 0) return result();
      for (const user of users) {
        const stop = await this.drainUser(user, tally);
        if (stop.error) return result(stop);
      }
    }
  }

  /** Drains one user's writes, batch by batch, each batch inside the user's drain lock. */
  private async drainUser(userId: string, tally: Tally): Promise<Partial<DrainResult>> {
    for (;;) {
      const step = async (): Promise<Partial<DrainResult> | undefined> => {
        // Inside the lock, a live write lease of the user is a store write of a drain that lost the
        // lock while it was in flight (its session ended: PostgreSQL restarted, a connection broke).
        // It may still land: applying newer writes before it would let it overwrite them.
        await this.leases?.settled?.(userId);
        return this.drainBatch(userId, tally);
      };
      const stop = await (this.leases ? this.leases.exclusive(userId, DRAIN_LOCK, step) : step());
      if (stop) return stop;
    }
  }

  /**
   * Reads the user's oldest pending writes and applies them in order, completing each group before
   * the next; run inside the drain lock, so the batch read here is never stale. Returns what stops
   * the drain (nothing left: `{}`; an outage: its error), or undefined to read the next batch.
   */
  private async drainBatch(userId: string, tally: Tally): Promise<Partial<DrainResult> | undefined> {
    const refused = tally.refused;
    const read = await this.outbox.pending({ userId, limit: DRAIN_BATCH });
    // Records with a write held (its text not embedded): their later writes wait behind it, in
    // order, so a delete never lands before the upsert it follows (which would then resurrect it).
    const holding = new Map<string, EngramError>();
    const hold = async (rows: Array<{ row: Row; error: EngramError }>): Promise<void> => {
      if (rows.length === 0) return;
      for (const { row, error } of rows) {
        holding.set(idOf(row.payload), error);
        if (!tally.held.has(row.seq)) tally.held.set(row.seq, { seq: row.seq, userId: row.userId, id: idOf(row.payload), error });
      }
      await this.noteFailure(
        rows.map(({ row }) => row.seq),
        rows[0]!.error.message,
      );
    };
    const batch: Row[] = [];
    for (const row of read) {
      const earlier = tally.held.get(row.seq);
      if (earlier) holding.set(earlier.id, earlier.error);
      else batch.push(row);
    }
    // Nothing but writes held earlier in this drain: they wait for the next one.
    if (batch.length === 0) return {};
    const groups = storeCalls(batch);
    // Pipelined: the next group's tagging and embedding (CPU here) run while this group's store
    // call is in flight (CPU in the store's process), so a bulk import keeps both busy. The next
    // group is prepared only once this group's request is sent, and in slices (embedMissing): the
    // model computes on this thread, and a preparation started first would hold the request back.
    let next = this.prepare(groups[0]!);
    for (let g = 0; g < groups.length; g += 1) {
      const prepared = await next;
      const prepareNext = (): Promise<Prepared> =>
        g + 1 < groups.length ? afterSend().then(() => this.prepare(groups[g + 1]!)) : Promise.resolve({ refused: new Map() });
      // Refused texts, and the writes of records held before them, wait; the rest goes on.
      const waiting: Array<{ row: Row; error: EngramError }> = [];
      let group: Row[] = [];
      for (const row of groups[g]!) {
        const why = (row.payload.op === "upsert" ? prepared.refused.get(row.payload) : undefined) ?? heldBehind(row.payload, holding);
        if (why) {
          waiting.push({ row, error: why });
          holding.set(idOf(row.payload), why);
        } else group.push(row);
      }
      await hold(waiting);
      if (group.length === 0) {
        next = prepareNext();
        continue;
      }
      const unprepared = prepared.error;
      const first = group[0]!;
      const orphans = await staleWrites(this.store, first.userId, group).catch(asStoreError);
      if (orphans instanceof EngramError) {
        await this.noteFailure(group.map((row) => row.seq), orphans.message);
        return { error: orphans, failed: group.map((row) => row.seq) };
      }
      if (orphans.size > 0) {
        await this.outbox.complete([...orphans]);
        for (const row of group) {
          if (orphans.has(row.seq)) tally.dropped.push({ seq: row.seq, userId: row.userId, id: idOf(row.payload), update: isCallerUpdate(row.payload) });
        }
        group = group.filter((row) => !orphans.has(row.seq));
        if (group.length === 0) {
          next = prepareNext();
          continue;
        }
      }
      const outcome: { done: Row[]; refused: Array<{ row: Row; error: EngramError }> } = { done: [], refused: [] };
      const applying = (async (): Promise<EngramError | undefined> => {
        if (unprepared) return unprepared;
        const stopped = await this.isolate(first.userId, group, outcome);
        // Every write refused and none taken: is it the records, or the store? Ask the store.
        if (stopped === undefined && outcome.done.length === 0 && outcome.refused.length > 0) return this.probe(first.userId, outcome.refused[0]!.error);
        return stopped;
      })().catch(asStoreError);
      next = prepareNext();
      const error = await applying;
      await this.finish(first.userId, outcome.done);
      tally.applied += outcome.done.length;
      for (const row of outcome.done) {
        tally.written.push(row.seq);
        if (isCallerUpdate(row.payload)) tally.updated.push({ seq: row.seq, record: row.payload.record });
      }
      if (error) {
        const settled = new Set(outcome.done.map((row) => row.seq));
        const failed = group.filter((row) => !settled.has(row.seq)).map((row) => row.seq);
        await this.noteFailure(failed, error.message);
        return { error, failed };
      }
      if (outcome.refused.length > 0) {
        await this.outbox.complete(outcome.refused.map(({ row }) => row.seq));
        for (const { row, error: why } of outcome.refused) refused.push({ seq: row.seq, userId: row.userId, id: idOf(row.payload), error: why });
      }
    }
    return undefined;
  }

  /**
   * Records a failed attempt on writes that stay queued, if the state lets it: the state may be
   * what failed (a full disk, PostgreSQL gone), and the drain's own error is what the caller needs,
   * not the bookkeeping's. The writes are queued either way; only their attempt count is lost.
   */
  private async noteFailure(seqs: number[], message: string): Promise<void> {
    await this.outbox.fail(seqs, message).catch(() => undefined);
  }

  /**
   * Readies a group of upserts for the store, in place: text made safe (text queued by a version
   * of Engram without text safety, an older outbox, is repaired here too, before the model or the
   * store sees it; a no-op for text validated on the way in), entities tagged, vectors computed.
   * Resolves to the failure instead of rejecting: it may run ahead of a drain step that stops first.
   */
  private prepare(rows: Row[]): Promise<Prepared> {
    const refused = new Map<UpsertOp, EngramError>();
    if (rows[0]!.payload.op !== "upsert") return Promise.resolve({ refused });
    const upserts = rows.map((row) => row.payload as UpsertOp);
    const run = async (): Promise<void> => {
      for (const op of upserts) op.record = safeText(op.record);
      await this.tagMissing(upserts);
      await this.embedMissing(upserts, refused);
    };
    return run().then(
      () => ({ refused }),
      (caught: unknown) => ({ error: asStoreError(caught), refused }),
    );
  }

  /**
   * Applies a group of writes of one kind and user; when the store refuses it (not an outage),
   * applies each half again, down to single writes, so that one record the store cannot take
   * never takes its batch-mates with it. Returns the outage that stopped it, if one did.
   */
  private async isolate(userId: string, rows: Row[], outcome: { done: Row[]; refused: Array<{ row: Row; error: EngramError }> }): Promise<EngramError | undefined> {
    try {
      await this.apply(userId, rows);
      outcome.done.push(...rows);
      return undefined;
    } catch (caught) {
      const error = asStoreError(caught);
      if (!REFUSALS.has(error.code)) return error;
      if (rows.length === 1) {
        // Once more after a moment: a store error that passes (a lock, a restart) is not a refusal.
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        try {
          await this.apply(userId, rows);
          outcome.done.push(...rows);
          return undefined;
        } catch (again) {
          const second = asStoreError(again);
          if (!REFUSALS.has(second.code)) return second;
          outcome.refused.push({ row: rows[0]!, error: second });
          return undefined;
        }
      }
      const mid = Math.ceil(rows.length / 2);
      return (await this.isolate(userId, rows.slice(0, mid), outcome)) ?? (await this.isolate(userId, rows.slice(mid), outcome));
    }
  }

  private async apply(userId: string, rows: Row[]): Promise<void> {
    if (rows[0]!.payload.op === "upsert") {
      await this.store.upsert(
        userId,
        rows.map((row) => {
          const op = row.payload as UpsertOp;
          return { record: op.record, embedding: op.embedding!, ...(op.replaces ? { replaces: true } : {}) };
        }),
      );
    } else {
      await this.store.delete(userId, rows.map((row) => (row.payload as DeleteOp).id));
    }
  }

  /**
   * When every write of a group was refused, a store that answers a plain read is up and refused
   * these records (they are dropped); one that does not is failing, and the writes stay pending.
   */
  private async probe(userId: string, refusal: EngramError): Promise<EngramError | undefined> {
    try {
      await this.store.count(userId);
      return undefined;
    } catch (caught) {
      const error = asStoreError(caught);
      return new EngramError(error.code, `${refusal.message} (and the store then failed a read: ${error.message})`, { cause: refusal });
    }
  }

  /** Marks applied writes done, with their history, and tells the in-process indexes. */
  private async finish(userId: string, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    // Another Memory on the same state may have drained the same rows meanwhile (the store write
    // is idempotent): history is recorded by whichever removes the row (in the same transaction).
    // A row replaced in the queue meanwhile (an update of the same record, here or on another
    // replica, even while this drain applied it) is removed by nobody: the row that replaced it
    // carries its entries and records them when it is applied.
    await this.outbox.completeApplied(rows.map((row) => ({ seq: row.seq, history: entriesOf(row) })));
    this.onApplied?.(userId, rows.map((row) => row.payload));
  }
}

/**
 * A batch cut into store calls, in order: consecutive writes of one kind and user go as one call
 * (an upsert and a later delete of the same id never swap), upserts at most {@link STORE_CALL} a call.
 */
function storeCalls(batch: Row[]): Row[][] {
  const groups: Row[][] = [];
  for (const row of batch) {
    const last = groups[groups.length - 1];
    const head = last?.[0];
    const joins = head !== undefined && head.payload.op === row.payload.op && head.userId === row.userId && (row.payload.op !== "upsert" || last!.length < STORE_CALL);
    if (joins) last!.push(row);
    else groups.push([row]);
  }
  return groups;
}

/** Resolves after the event loop's I/O phase: a request started before is then on its way. */
function afterSend(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function asStoreError(error: unknown): EngramError {
  return isEngramError(error) ? error : new EngramError("STORE_ERROR", `Store write failed: ${(error as Error)?.message ?? error}`, { cause: error });
}

/** The record with its content, role and metadata strings repaired (core/text.ts). */
export function safeText(record: MemoryRecord): MemoryRecord {
  const metadata: MemoryRecord["metadata"] = {};
  for (const [key, value] of Object.entries(record.metadata)) metadata[key] = typeof value === "string" ? repairText(value) : value;
  const safe: MemoryRecord = { ...record, content: repairText(record.content), metadata };
  if (record.role !== undefined) safe.role = repairText(record.role);
  return safe;
}

/** A write's own history entry, as the state records it. */
function ownEntry(userId: string, op: WriteOp): NewHistoryEntry | null {
  return op.history ? { ...op.history, userId } : null;
}

/**
 * The entries a queued write records once applied: those the state kept for it (of the writes it
 * replaced, then its own). Its own entry is added when missing: a row queued by an older version
 * (no entries kept), or replaced by an older replica in a rolling deploy (which left the replaced
 * row's entries in place). The same change made twice in a row (one text added by two replicas
 * at once, a retried request) is one change: recorded once, at its first time, as a replay
 * through the store would be.
 */
function entriesOf(row: Row): NewHistoryEntry[] {
  const own = ownEntry(row.userId, row.payload);
  // A caller's update that replaced in the queue a decision of Engram's own about its record (a
  // merge's write, a fact's) carries that decision's entry, but the decision never lands: the
  // update lands on the record as stored (update_rebase.ts). Its entry is not history.
  const carried = isCallerUpdate(row.payload) ? (row.history ?? []).filter((entry) => !isDecision(entry)) : row.history ?? [];
  const entries: NewHistoryEntry[] = [];
  for (const entry of own ? [...carried, own] : carried) {
    const last = entries[entries.length - 1];
    if (!last || !sameChange(last, entry)) entries.push(entry);
  }
  return entries;
}

/** Two entries of one change: everything but the time alike. */
function sameChange(a: NewHistoryEntry, b: NewHistoryEntry): boolean {
  return a.memoryId === b.memoryId && a.event === b.event && a.oldContent === b.oldContent && a.newContent === b.newContent && a.reason === b.reason;
}

/** What the drain learnt of the model while embedding one group: undefined until it answers, or a probe tells. */
interface ModelSeen {
  answers?: boolean;
}

/**
 * The error of the held write that `op` waits behind: a write of a record, or decided on a record
 * (`ifStoredAs`), that has an earlier write held.
 */
function heldBehind(op: WriteOp, holding: ReadonlyMap<string, EngramError>): EngramError | undefined {
  if (holding.size === 0) return undefined;
  const own = holding.get(idOf(op));
  if (own) return own;
  for (const condition of op.ifStoredAs ?? []) {
    const error = holding.get(condition.id);
    if (error) return error;
  }
  return undefined;
}

function idOf(op: WriteOp): string {
  return op.op === "upsert" ? op.record.id : op.id;
}

function keyOf(op: WriteOp): string {
  return op.op === "upsert" ? `upsert:${op.record.id}` : `delete:${op.id}`;
}
