/** The store as a Memory uses it: per-user gates that keep in-process indexes coherent (the argument below). */
import { KeyedQueue } from "../core/keyed_queue.js";
import type { MemoryRecord } from "../core/types.js";
import type { EpisodicStore, StoreFilter, StoreHit, StoredRecord, StoreRevision } from "../store/types.js";
import type { LeaseState } from "../state/types.js";

/** Told of this process's writes, inside the gate, right after the store acknowledged them. */
export interface WriteListener {
  applied(userId: string, upserts: StoredRecord[], deletes: string[]): void;
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
  ) {}

  /** Whether the store keeps revisions (a store given by the caller may not). */
  get tracksRevisions(): boolean {
    return typeof this.inner.revision === "function";
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
        this.listener?.applied(userId, items, []);
      }),
    );
  }

  delete(userId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.exclusive(userId, () =>
      this.leased(userId, ids.map((id) => `delete:${id}`), async () => {
        await this.inner.delete(userId, ids);
        this.listener?.applied(userId, [], ids);
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
        // Even a failed erase may have removed part of the user: the index is not trusted after it.
        this.listener?.erased(userId);
      }
    });
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

  /** Without store revisions, the user's record count stands in (see `EpisodicStore.revision`). */
  async revision(userId: string): Promise<StoreRevision> {
    if (this.inner.revision) return this.inner.revision(userId);
    return { log: null, count: await this.inner.count(userId) };
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
