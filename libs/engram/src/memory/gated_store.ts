/** The store as a Memory uses it: per-user gates that keep in-process indexes coherent (the argument below). */
import { KeyedQueue } from "../core/keyed_queue.js";
import type { MemoryRecord } from "../core/types.js";
import type { EpisodicStore, StoreFilter, StoreHit, StoredRecord, StoreRevision } from "../store/types.js";
import type { LeaseState, RevisionBump, RevisionState } from "../state/types.js";

/**
 * The `log` of a revision read from the shared state (see "Revisions in the shared state" below):
 * never a Chroma collection id, so a state revision never equals a store one.
 */
export const STATE_REVISION = "state";


/** Told of this process's writes, inside the gate, right after the store acknowledged them. */
export interface WriteListener {
  /** `bump`: the state revision's move by this write, when revisions are kept in the state. */
  applied(userId: string, upserts: StoredRecord[], deletes: string[], bump?: RevisionBump): void;
  erased(userId: string): void;
}

/**
 * The store as a `Memory` uses it: writes of one user and the snapshots that in-process indexes
 * are built from never overlap in this process (a per-user gate), and every write is reported to
 * the listener (recall) before the gate opens again. That is what makes an index kept in process
 * coherent with writes made by other instances. The argument:
 *
 * The store keeps, per user, a revision R = (log, count) (store/revision_log.ts): `count` grows by
 * exactly one after each acknowledged write call, and `log` changes when the user is erased (or
 * the log compacted), so R never takes the same value twice; "no log" (log = null) does recur, and
 * is never taken as current. Every writer writes the records first and advances R after.
 *
 * An index is built inside the gate: read R0, then scan the records. It keeps `expected`, set to
 * R0. Each write of this process runs inside the gate too, so it lies wholly before the R0 read
 * (its records are in the scan) or wholly after the scan; for each one after, the listener applies
 * the write to the index and adds one to `expected.count`, synchronously, before the gate opens.
 * So at any instant, `expected` = R0 + (this process's writes applied to the index since R0).
 *
 * A warm search copies E = `expected`, then reads R1. If R1 = E, then R1.count - R0.count equals
 * the number of this process's writes applied since R0, all of which advanced R before the read
 * (each was acknowledged, then applied, then E copied). Since R only grows, and equal logs mean no
 * erase between, no write of another instance advanced R between the R0 read and the R1 read.
 * Any write acknowledged by another instance before the search began advanced R before R1, hence
 * before R0, hence its records were written before the scan and the scan saw them (or a later
 * state, which then also advanced R before R1 and is seen the same way). Writes of this process
 * are in the index by construction. So the index reflects every write acknowledged before the
 * search began. If R1 != E, the index is rebuilt (in the gate, as above). Over-counting cannot
 * happen: a write is counted only by an index that exists when the listener runs, and such an
 * index's R0 was read before that write began.
 *
 * A write whose records reached the store but whose revision did not advance (the store failed in
 * between) was not acknowledged; the outbox replays it, and the replay advances R.
 *
 * Revisions in the shared state (the default): reading R from Chroma costs a round trip to a
 * server that the drains keep busy, on every warm search. The shared state (SQLite in the folder,
 * or PostgreSQL for replicas: every instance sharing the store shares it, docs/deploy.md) keeps a
 * per-user revision S instead (state/types.ts `RevisionState`), read next to the outbox. Every
 * write through this gate, of any instance, advances S after the store acknowledged it and before
 * the write counts as done (the outbox row is completed after this returns); an erase advances it
 * too. S's values come from one sequence, so S never takes the same value twice; "none" (null)
 * recurs and is never current. The argument above holds with S for R, with one change: instead
 * of counting its own writes, this process takes from each bump the value S had before it; if
 * that is `expected`, no other write advanced S in between, and `expected` becomes the new value;
 * otherwise the index is not current any more (`expected` becomes "none"), and is rebuilt. An
 * index built when S is none first advances S (a fresh value: nothing but a rebuild elsewhere
 * depends on it), so an idle user's index stays current. Every gate on a state advances S,
 * also in instances that read R from the store (`recallIndex.revisions`), so readers of S see their
 * writes. Writers that bypass this gate must advance S too: `engram reembed` clears every user's S
 * after replacing a user's collections. What S cannot see: an instance on another state writing
 * the same store (two data folders sharing a server by url); recall reads S only where that
 * cannot happen, or where the caller says so (recall.ts, `revisions`).
 */
export class GatedStore implements EpisodicStore {
  /** Each user's gate: their writes and snapshots, one at a time. */
  private readonly gates = new KeyedQueue();

  private listener?: WriteListener;

  /**
   * @param leases store writes in flight on the shared state (state/sqlite/leases.ts): a write is
   *   made only while it is still queued in the outbox, and `deleteUser` waits for writes in flight
   *   in other instances. Without it, writes are made as asked.
   */
  constructor(
    private readonly inner: EpisodicStore,
    private readonly leases?: LeaseState,
    /**
     * Per-user revisions in the shared state, advanced by every write here whether or not they are
     * read, so that instances on the state that read them see this one's writes.
     */
    private readonly revisions?: RevisionState,
    /** Whether {@link revision} reads the state's revisions (else the store's; see above). */
    private readonly readsState = revisions !== undefined,
  ) {}

  /** Whether revisions are kept (in the state, or by the store: a store given by the caller may not). */
  get tracksRevisions(): boolean {
    return this.stateRevisions !== undefined || typeof this.inner.revision === "function";
  }

  /** The state's revisions when they are the ones read. */
  private get stateRevisions(): RevisionState | undefined {
    return this.readsState ? this.revisions : undefined;
  }

  listen(listener: WriteListener): void {
    this.listener = listener;
  }

  /** Runs `run` with no write of the user from this process in flight, and none starting. */
  exclusive<T>(userId: string, run: () => Promise<T>): Promise<T> {
    return this.gates.run(userId, run);
  }

  upsert(userId: string, items: StoredRecord[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return this.exclusive(userId, () =>
      this.leased(userId, items.map((item) => `upsert:${item.record.id}`), async () => {
        await this.inner.upsert(userId, items);
        this.listener?.applied(userId, items, [], await this.advance(userId));
      }),
    );
  }

  delete(userId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.exclusive(userId, () =>
      this.leased(userId, ids.map((id) => `delete:${id}`), async () => {
        await this.inner.delete(userId, ids);
        this.listener?.applied(userId, [], ids, await this.advance(userId));
      }),
    );
  }

  deleteUser(userId: string): Promise<number> {
    return this.exclusive(userId, async () => {
      // The caller dropped the user's queued writes first: what another instance is writing now
      // lands before the erase, and nothing can start after it.
      await this.leases?.settled(userId);
      try {
        return await this.inner.deleteUser(userId);
      } finally {
        // Even a failed erase may have removed part of the user: the index is not trusted after it,
        // here or in any other instance.
        this.listener?.erased(userId);
        await this.revisions?.bump(userId);
      }
    });
  }

  /**
   * Advances the user's state revision after a write the store acknowledged. If that fails, the
   * write is not acknowledged (it stays queued and its replay advances it); the index here, which
   * does not hold it, is dropped all the same, since the store does.
   */
  private async advance(userId: string): Promise<RevisionBump | undefined> {
    if (!this.revisions) return undefined;
    try {
      return await this.revisions.bump(userId);
    } catch (error) {
      this.listener?.erased(userId);
      throw error;
    }
  }

  /** Writes under a lease; skips the write when its outbox rows are gone (erased, or applied by another drainer). */
  private async leased(userId: string, keys: string[], write: () => Promise<void>): Promise<void> {
    if (!this.leases) return write();
    const lease = await this.leases.take(userId, keys);
    if (lease === undefined) return;
    try {
      await write();
    } finally {
      await this.leases.release(lease);
    }
  }

  /**
   * The user's revision now: from the state when it keeps them; else from the store; without store
   * revisions, the user's record count stands in (see `EpisodicStore.revision`).
   */
  async revision(userId: string): Promise<StoreRevision> {
    if (this.stateRevisions) return stateRevision(await this.stateRevisions.read(userId));
    if (this.inner.revision) return this.inner.revision(userId);
    return { log: null, count: await this.inner.count(userId) };
  }

  /**
   * The revision an index built now reflects: {@link revision}, except that a user with no state
   * revision gets a fresh one first, so the index can be current (see "Revisions in the shared
   * state" above). Called inside the gate, before the scan.
   */
  async baseline(userId: string): Promise<StoreRevision> {
    const revisions = this.stateRevisions;
    if (!revisions) return this.revision(userId);
    const read = await revisions.read(userId);
    return stateRevision(read ?? (await revisions.bump(userId)).after);
  }

  query(userId: string, vector: number[], k: number, filter?: StoreFilter): Promise<StoreHit[]> {
    return this.inner.query(userId, vector, k, filter);
  }

  get(userId: string, ids: string[], options?: { embeddings?: boolean; filter?: StoreFilter }): Promise<StoreHit[]> {
    return this.inner.get(userId, ids, options);
  }

  list(userId: string, filter?: StoreFilter): Promise<MemoryRecord[]> {
    return this.inner.list(userId, filter);
  }

  scan(userId: string): Promise<StoredRecord[]> {
    return this.inner.scan(userId);
  }

  count(userId: string): Promise<number> {
    return this.inner.count(userId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A state revision as a {@link StoreRevision}: none is `log: null`, which equals nothing. */
function stateRevision(value: number | null): StoreRevision {
  return value === null ? { log: null, count: 0 } : { log: STATE_REVISION, count: value };
}
