import type Database from "better-sqlite3";
import { EngramError, isEngramError } from "../core/errors.js";
import type { HistoryEvent, MemoryRecord } from "../core/types.js";
import type { HistoryLog } from "../store/history.js";
import type { Outbox } from "../store/outbox.js";
import type { EpisodicStore } from "../store/types.js";

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
}

/** One pending store write, as kept in the outbox. */
export type WriteOp = UpsertOp | { op: "delete"; id: string; history: HistoryNote | null };

export interface DrainResult {
  applied: number;
  pending: number;
  /** The outage or refusal that stopped the drain, if one did. */
  error?: EngramError;
  /** Outbox sequence numbers of the writes that failed (kept pending). */
  failed?: number[];
}

/**
 * Every store write goes through the durable outbox: it is first recorded in SQLite, then applied
 * to the store, then marked done together with its history entry, in one transaction. A store
 * outage leaves it pending, and the next drain replays it. Writes are idempotent (upsert by
 * deterministic id, delete by id), so a replay after a crash never duplicates.
 */
export class Writer {
  /** Drains run one at a time per process, so a write is never applied twice concurrently. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database.Database,
    private readonly outbox: Outbox<WriteOp>,
    private readonly history: HistoryLog,
    private readonly store: EpisodicStore,
    /** Embeds the texts of upserts queued without a vector; a failure keeps them pending. */
    private readonly embed: (texts: string[]) => Promise<number[][]>,
    /** Told of every write that reached the store (keeps in-process indexes current); upserts carry their vector. */
    private readonly onApplied?: (userId: string, ops: WriteOp[]) => void,
  ) {}

  /** Records writes durably; they reach the store on the next drain. */
  enqueue(userId: string, ops: WriteOp[]): number[] {
    return this.outbox.enqueue(ops.map((payload) => ({ userId, key: keyOf(payload), payload })));
  }

  /** Drops writes that the store refused for good (not an outage), so they cannot block others. */
  discard(seqs: number[]): void {
    this.outbox.complete(seqs);
  }

  /** Applies pending writes (of one user, or of all), oldest first; stops at an outage. */
  drain(userId?: string): Promise<DrainResult> {
    const run = this.chain.then(() => this.drainNow(userId));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves when no drain is running or queued in this process. */
  async idle(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.chain;
      await seen;
    } while (seen !== this.chain);
  }

  /**
   * The latest queued write of a record, if one is pending: an upsert (the record as it will be
   * stored) or a delete. What history will say once the queue is drained.
   */
  queued(userId: string, id: string): WriteOp | undefined {
    const upsert = this.outbox.find(userId, `upsert:${id}`);
    const del = this.outbox.find(userId, `delete:${id}`);
    const latest = upsert && del ? (upsert.seq > del.seq ? upsert : del) : (upsert ?? del);
    return latest?.payload;
  }

  /**
   * Fills in, in place and in one model call, the vectors of upserts that `add` queued without one
   * (`writes: "background"`).
   */
  private async embedMissing(upserts: UpsertOp[]): Promise<void> {
    const missing = upserts.filter((op) => op.embedding === undefined);
    if (missing.length === 0) return;
    const vectors = await this.embed(missing.map((op) => op.record.content));
    missing.forEach((op, i) => {
      op.embedding = vectors[i];
    });
  }

  pendingCount(userId?: string): number {
    return this.outbox.size(userId);
  }

  private async drainNow(userId?: string): Promise<DrainResult> {
    let applied = 0;
    for (;;) {
      const batch = this.outbox.pending({ userId, limit: 256 });
      if (batch.length === 0) return { applied, pending: 0 };
      let i = 0;
      while (i < batch.length) {
        const first = batch[i]!;
        let j = i + 1;
        // Consecutive writes of one kind and user go to the store as one call (order is kept:
        // an upsert and a later delete of the same id never swap).
        while (j < batch.length && batch[j]!.payload.op === first.payload.op && batch[j]!.userId === first.userId) j += 1;
        const group = batch.slice(i, j);
        try {
          if (first.payload.op === "upsert") {
            const upserts = group.map((row) => row.payload as UpsertOp);
            await this.embedMissing(upserts);
            await this.store.upsert(
              first.userId,
              upserts.map((op) => ({ record: op.record, embedding: op.embedding! })),
            );
          } else {
            await this.store.delete(
              first.userId,
              group.map((row) => (row.payload as Extract<WriteOp, { op: "delete" }>).id),
            );
          }
        } catch (error) {
          const wrapped = isEngramError(error)
            ? error
            : new EngramError("STORE_ERROR", "Store write failed.", { cause: error });
          const failed = group.map((row) => row.seq);
          this.outbox.fail(failed, wrapped.message);
          return { applied, pending: this.outbox.size(userId), error: wrapped, failed };
        }
        this.db.transaction(() => {
          // Another Memory on the same data folder may have drained the same rows meanwhile (the
          // store write is idempotent): history is recorded by whichever removes the row.
          const removed = new Set(this.outbox.complete(group.map((row) => row.seq)));
          const notes = group.flatMap((row) => (row.payload.history && removed.has(row.seq) ? [{ ...row.payload.history, userId: row.userId }] : []));
          if (notes.length > 0) this.history.record(notes);
        })();
        this.onApplied?.(first.userId, group.map((row) => row.payload));
        applied += group.length;
        i = j;
      }
    }
  }
}

function keyOf(op: WriteOp): string {
  return op.op === "upsert" ? `upsert:${op.record.id}` : `delete:${op.id}`;
}
