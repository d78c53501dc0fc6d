/**
 * The write policy, in one place: when a write returns (`writes: "sync"` or `"background"`), what
 * becomes of writes a drain could not apply (kept for the next drain, or dropped), and who is told
 * (the caller by an error, or nobody waiting: a process warning).
 */
import { EngramError, type EngramErrorCode } from "../core/errors.js";
import type { HistoryEntry, MemoryRecord } from "../core/types.js";
import { isCallerUpdate, type DrainResult, type HistoryNote, type Writer, type WriteOp } from "./writer.js";

/** When `add`, `update` and `delete` return (MemoryOptions.writes). */
export type WriteMode = "sync" | "background";

/** What the policy needs from the Memory's lifecycle. */
export interface WritePolicyInput {
  mode: WriteMode;
  /** The writer, once the Memory is set up. */
  writer(): Promise<Writer>;
  /** True once the Memory closed: a drain scheduled for later then has nothing to do (its writes stay durable). */
  closed(): boolean;
  /** The history entries of these memories (the shared state's): whether a write another process drained was recorded. */
  history(userId: string, memoryIds: readonly string[]): Promise<HistoryEntry[]>;
}

/**
 * What becomes of writes a drain stopped on:
 * - `wait`: an outage (the store down, the local server exiting; or the shared state failing
 *   under the drain: PostgreSQL restarting, a full disk, the Memory closing): they stay queued,
 *   quietly. The writes are durable in the state; a failure of the state is never their fault;
 * - `retry`: valid records the model could not embed yet (or, with nobody waiting, a model the
 *   folder does not match, which a reembed or a restart fixes): they stay queued;
 * - `drop`: the store refused them for good: dropped, so they cannot block later writes.
 */
function verdict(error: EngramError, waiting: boolean): "wait" | "retry" | "drop" {
  if (OUTAGES.has(error.code)) return "wait";
  if (error.code === "EMBEDDING_FAILED" || (!waiting && error.code === "EMBEDDINGS_MISMATCH")) return "retry";
  return "drop";
}

/**
 * Background drains of different users that run at once. Each holds a connection to the store: a
 * burst of writes from many users (180 users adding at once) opened a socket each to Chroma, and
 * ten thousand would exhaust file descriptors. More wait their turn, in order; a read that needs a
 * user's writes drains them itself and never waits for a turn.
 */
export const MAX_BACKGROUND_DRAINS = 8;

/** What a write through the policy came to ({@link WritePolicy.writeSeen}). */
export interface Written {
  /** The writes are not all in the store yet: an outage kept them queued, or (background) the drain runs later. */
  pending: boolean;
  /** Indexes in the written ops of conditional writes the drain dropped (empty while pending: not known yet). */
  dropped: ReadonlySet<number>;
  /**
   * Indexes in the written ops of callers' updates this call's drain applied, with the record as
   * stored (writer.ts `DrainResult.updated`): it landed on the stored record's sources.
   */
  updated: ReadonlyMap<number, MemoryRecord>;
}

/** A write applied only under a condition, which the drain may drop (erased_updates.ts). */
function isConditional(op: WriteOp): boolean {
  return (op.op === "upsert" && op.ifStored === true) || (op.ifStoredAs?.length ?? 0) > 0;
}

/** The history entry a queued write records once applied. */
function isEntryOf(entry: HistoryEntry, note: HistoryNote): boolean {
  return (
    entry.memoryId === note.memoryId && entry.event === note.event && entry.at === note.at && entry.newContent === note.newContent && entry.reason === note.reason
  );
}

/** The error of an update whose memory was deleted before its write reached the store. */
function deletedMeanwhile(id: string): EngramError {
  return new EngramError("NOT_FOUND", `No memory ${id} for this user: it was deleted before this update reached the store, and nothing was changed.`, {
    details: { id },
  });
}

/** Drain errors that are no write's fault: the writes wait for the next drain. */
const OUTAGES: ReadonlySet<EngramErrorCode> = new Set<EngramErrorCode>(["STORE_UNAVAILABLE", "CHROMA_EXITED", "STATE_UNAVAILABLE", "OUTBOX_ERROR", "CLOSED"]);

/** A drain that threw an outage, as the result of one that stopped at it; anything else is rethrown. */
function outageOf(error: unknown, seqs: number[]): DrainResult {
  if (!(error instanceof EngramError) || !OUTAGES.has(error.code)) throw error;
  return { applied: 0, pending: seqs.length, error, failed: seqs };
}

export class WritePolicy {
  /** Users whose background drain is scheduled for the next turn of the event loop. */
  private readonly due = new Set<string>();

  /** Background drains running now, per user. */
  private readonly draining = new Map<string, number>();

  /** Background drains holding a turn now, and those waiting for one (oldest first). */
  private turnsTaken = 0;
  private readonly turnQueue: Array<() => void> = [];

  constructor(private readonly input: WritePolicyInput) {}

  get mode(): WriteMode {
    return this.input.mode;
  }

  /**
   * Writes through the outbox. Returns true when the writes are not in the store yet: the store was
   * down, or (background) the drain runs after the call returns. `mode` overrides the Memory's
   * (fact extraction, already off the caller's path, writes `"sync"`). Throws NOT_FOUND for a
   * caller's update the drain dropped ({@link writeSeen}).
   */
  async write(userId: string, ops: WriteOp[], mode: WriteMode = this.input.mode): Promise<boolean> {
    return (await this.writeAs(userId, ops, mode, isCallerUpdate)).pending;
  }

  /**
   * {@link write}, also telling which of the conditional writes (`ifStored`, `ifStoredAs`) the drain
   * dropped because their records changed after they were decided: what a caller reporting its
   * writes as done (a forgetting pass) must leave out. Known once they were drained (not pending).
   */
  writeSeen(userId: string, ops: WriteOp[], mode: WriteMode = this.input.mode): Promise<Written> {
    return this.writeAs(userId, ops, mode, isConditional);
  }

  private async writeAs(userId: string, ops: WriteOp[], mode: WriteMode, checked: (op: WriteOp) => boolean): Promise<Written> {
    const writer = await this.input.writer();
    const seqs = await writer.enqueue(userId, ops);
    if (mode === "background") {
      this.schedule(userId);
      return { pending: true, dropped: new Set(), updated: new Map() };
    }
    // Queued, so durable, from here: a drain that could not even start or finish its bookkeeping
    // (PostgreSQL restarting while it took the user's drain lock or read the queue) leaves them
    // queued, and the caller is told they are pending, as in a store outage, not that they failed.
    const result = await writer.drain(userId).catch((error: unknown) => outageOf(error, seqs));
    if (await this.settle(writer, result, seqs)) return { pending: true, dropped: new Set(), updated: new Map() };
    const dropped = await this.droppedOf(userId, ops, seqs, result, checked);
    // The caller is never answered with an updated record that was not stored.
    const update = [...dropped].map((i) => ops[i]!).find(isCallerUpdate);
    if (update) throw deletedMeanwhile(update.record.id);
    const stored = new Map((result.updated ?? []).map(({ seq, record }) => [seq, record]));
    const updated = new Map<number, MemoryRecord>();
    seqs.forEach((seq, i) => {
      const record = stored.get(seq);
      if (record) updated.set(i, record);
    });
    return { pending: false, dropped, updated };
  }

  /**
   * The indexes in `ops` of the `checked` writes the drain dropped (erased_updates.ts): an update
   * whose memory was deleted (by another call, process or replica) after the update read it, a
   * decision made on a copy changed since. Run once the user's queue is drained (no outage): each
   * write was then applied or dropped, by this drain, or by another process's that took it first,
   * or as part of a later write of the same record that replaced it in the queue; and a write
   * decided on a copy (`ifStoredAs`, `keepQueued`) may not have been queued at all, the record's
   * queued write staying in its place (with its seq). This drain's result tells the first case;
   * history tells them all: an applied write's entry is recorded in the transaction that completes
   * its row (carried by a row that replaced it), a dropped one's never.
   */
  private async droppedOf(userId: string, ops: WriteOp[], seqs: number[], result: DrainResult, checked: (op: WriteOp) => boolean): Promise<Set<number>> {
    const droppedHere = new Set((result.dropped ?? []).map((write) => write.seq));
    const written = new Set(result.written ?? []);
    const dropped = new Set<number>();
    const unsure: Array<{ i: number; note: HistoryNote }> = [];
    for (const [i, op] of ops.entries()) {
      if (!checked(op) || op.history === null) continue;
      const ours = (op.ifStoredAs?.length ?? 0) === 0; // its seq is its own row's
      if (ours && written.has(seqs[i]!)) continue;
      if (ours && droppedHere.has(seqs[i]!)) dropped.add(i);
      else unsure.push({ i, note: op.history });
    }
    if (unsure.length === 0) return dropped;
    const entries = await this.input.history(userId, [...new Set(unsure.map(({ note }) => note.memoryId))]);
    for (const { i, note } of unsure) if (!entries.some((entry) => isEntryOf(entry, note))) dropped.add(i);
    return dropped;
  }

  /** The next successful read replays what an outage left behind; an outage that remains is thrown. */
  async replayPending(userId: string): Promise<void> {
    const writer = await this.input.writer();
    if ((await writer.pendingCount(userId)) === 0) return;
    const result = await writer.drain(userId);
    // A write the store refused was dropped (and reported): the read goes on without it.
    this.warnRefused(result);
    if (result.error) throw result.error;
  }

  /**
   * What a read that does not wait for the drain (a search with the pending overlay) does instead
   * of `replayPending`: the user's queued writes, left by an outage say, get a background drain,
   * unless one is scheduled or running in this process already (it takes every write queued).
   */
  replayInBackground(userId: string): void {
    if (!this.draining.has(userId) && !this.input.closed()) this.schedule(userId);
  }

  /** Drains now the background drains scheduled and not started (close() runs them while open). */
  async drainDue(): Promise<void> {
    const due = [...this.due];
    this.due.clear();
    for (const userId of due) await this.drainInBackground(userId);
  }

  /**
   * Says which writes a drain dropped because the store refused them one by one (their
   * batch-mates were stored), and which callers' updates it dropped because their memory was
   * deleted first (`ENGRAM_UPDATE_DROPPED`), as process warnings: no caller may be waiting to be
   * told. `own` names writes whose caller is told by an error instead.
   */
  warnRefused(result: DrainResult, own: readonly number[] = []): void {
    // Callers' updates dropped because their memory was deleted first: whoever acknowledged them
    // (a background update) may wait for nothing, and history simply has no UPDATE for them.
    const updates = (result.dropped ?? []).filter((write) => write.update && !own.includes(write.seq));
    if (updates.length > 0) {
      process.emitWarning(
        `Engram dropped ${updates.length} update(s) of memories deleted before the update reached the store (memory ${updates.map((write) => write.id).join(", ")}); a deleted memory is never brought back, and history records no UPDATE for them`,
        { code: "ENGRAM_UPDATE_DROPPED" },
      );
    }
    // Texts the model refused alone (and the later writes of their records): kept queued, the
    // writes queued with them stored. Whoever queued them in the background is not waiting.
    const held = (result.held ?? []).filter((write) => !own.includes(write.seq));
    if (held.length > 0) {
      process.emitWarning(
        `Engram could not embed ${held.length} background write(s) (record ${[...new Set(held.map((write) => write.id))].join(", ")}); they stay queued and are tried again on the next drain, and the writes queued with them were stored: ${held[0]!.error.message}`,
        { code: "ENGRAM_EMBEDDING_FAILED" },
      );
    }
    const others = (result.refused ?? []).filter((write) => !own.includes(write.seq));
    if (others.length === 0) return;
    process.emitWarning(
      `Engram dropped ${others.length} write(s) the store refused (record ${others.map((write) => write.id).join(", ")}); the writes queued with them were stored: ${others[0]!.error.message}`,
      { code: "ENGRAM_WRITE_REFUSED" },
    );
  }

  /**
   * Drains the user's writes on the next turn of the event loop rather than now: what the caller
   * does next without waiting on I/O (the graph's next nodes, sending the reply) runs first, and
   * the writes of one turn (an exchange, then a summary) reach the model and the store as one batch.
   */
  private schedule(userId: string): void {
    if (this.due.has(userId)) return;
    this.due.add(userId);
    setImmediate(() => {
      // close() drains what is due itself; a drain already run by it has nothing left to do here.
      if (!this.due.delete(userId) || this.input.closed()) return;
      void this.drainInBackground(userId);
    });
  }

  /** The drain behind `writes: "background"`: nobody waits on it, so it never throws. */
  private async drainInBackground(userId: string): Promise<void> {
    if (this.input.closed()) return; // the writes are durable in the outbox: the next open drains them
    this.draining.set(userId, (this.draining.get(userId) ?? 0) + 1);
    await this.takeTurn();
    try {
      if (this.input.closed()) return;
      const writer = await this.input.writer();
      await this.settle(writer, await writer.drain(userId));
    } catch (error) {
      // No caller awaits this drain: a failure must not become an unhandled rejection. The writes
      // stay in the outbox for the next call or flush().
      process.emitWarning(`Engram's background drain failed; the writes stay queued: ${(error as Error)?.message ?? error}`, { code: "ENGRAM_DRAIN_FAILED" });
    } finally {
      const next = this.turnQueue.shift();
      if (next) next();
      else this.turnsTaken -= 1;
      const left = (this.draining.get(userId) ?? 1) - 1;
      if (left > 0) this.draining.set(userId, left);
      else this.draining.delete(userId);
    }
  }

  /** Resolves when this background drain may run: at most {@link MAX_BACKGROUND_DRAINS} at once. */
  private takeTurn(): Promise<void> {
    if (this.turnsTaken < MAX_BACKGROUND_DRAINS) {
      this.turnsTaken += 1;
      return Promise.resolve();
    }
    // A finishing drain hands its turn straight to the oldest waiting one (turnsTaken unchanged).
    return new Promise((resolve) => this.turnQueue.push(resolve));
  }

  /**
   * The policy applied to a drain's result. `own`: the seqs of a caller waiting on them (undefined
   * for a background drain, which nobody waits on). Returns true when writes stay pending; throws
   * the refusal of the caller's own writes.
   */
  private async settle(writer: Writer, result: DrainResult, own?: number[]): Promise<boolean> {
    const waiting = own !== undefined;
    this.warnRefused(result, own);
    // One of the caller's writes refused on its own (its batch-mates were stored): the caller is told.
    const refused = result.refused?.find((write) => own?.includes(write.seq));
    if (refused) throw refused.error;
    // One of the caller's writes waits behind a text the model refused: queued, so pending.
    const held = result.held?.some((write) => own?.includes(write.seq)) ?? false;
    if (!result.error) return held;
    const what = verdict(result.error, waiting);
    if (what === "wait") return true;
    if (what === "retry") {
      if (!waiting) {
        process.emitWarning(`Engram could not embed ${result.failed?.length ?? 0} background write(s); they stay queued: ${result.error.message}`, {
          code: "ENGRAM_EMBEDDING_FAILED",
        });
      }
      return true;
    }
    await writer.discard(own ?? result.failed ?? []);
    if (waiting) throw result.error;
    process.emitWarning(`Engram dropped ${result.failed?.length ?? 0} background write(s) the store refused: ${result.error.message}`, {
      code: "ENGRAM_WRITE_REFUSED",
    });
    return true;
  }
}
