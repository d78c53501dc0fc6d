import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { PoolClient, QueryConfig } from "pg";
import type { LeaseState } from "../types.js";
import { NOW_MS, type PgHandle } from "./handle.js";

/** The longest a write lease is kept alive by refreshing; it lapses `writeLeaseMs` later. */
const MAX_HOLD_MS = 60_000;

/** SQLSTATE of a lock wait that ran past `lock_timeout`. */
const LOCK_NOT_AVAILABLE = "55P03";

/**
 * Write leases and per-user exclusive sections shared by every replica on the database.
 *
 * Write leases close the race between a replica applying a queued write and another replica's
 * `deleteAll`: `take` checks that the write is still queued and records the lease in one
 * transaction, holding a share lock on the outbox rows it found, so an erasure that deletes those
 * rows waits for the lease to be committed (and then waits, in `settled`, for it to be released)
 * or deletes them first (and `take` finds nothing to write). Across machines a pid means nothing:
 * a lease is alive while its expiry, on the server's clock, is in the future, and the replica
 * holding it pushes the expiry forward every third of its life. A replica that dies stops
 * refreshing, and its lease lapses within `writeLeaseMs`.
 *
 * `exclusive` holds a session-level advisory lock on a hash of (schema, user, name) on a
 * connection of the lock pool (not the main pool) for the duration of `fn`: two reconciliations of one user's facts never
 * overlap, across replicas, and a replica that dies loses its session and so its lock at once.
 */
export class PostgresLeases implements LeaseState {
  /** This instance, as the owner of its leases. */
  private readonly owner = randomUUID();

  /** Refresh timers of the leases this instance holds. */
  private readonly refreshers = new Map<string, NodeJS.Timeout>();

  /** Lock sessions whose `lock_timeout` is set (see `lock`). */
  private readonly timed = new WeakSet<PoolClient>();

  /** The in-process queue of each exclusive key: one connection per key per process waits. */
  private readonly local = new Map<string, Promise<void>>();

  constructor(private readonly handle: PgHandle) {
    handle.onClose(() => {
      for (const timer of this.refreshers.values()) clearInterval(timer);
      this.refreshers.clear();
    });
  }

  private get table(): string {
    return this.handle.table("write_leases");
  }

  async take(userId: string, keys: string[]): Promise<string | undefined> {
    if (keys.length === 0) return undefined;
    const ttl = this.handle.options.writeLeaseMs;
    // One statement: the share locks on the queued rows (all of them: count reads the whole CTE,
    // EXISTS would stop at the first) are held until the lease is committed, so an erasure deleting
    // any of those rows waits for the lease, and then sees it in settled().
    const rows = await this.handle.query<{ id: string }>(
      "leases.take",
      `WITH queued AS (SELECT 1 FROM ${this.handle.table("outbox")} WHERE user_id = $1 AND key = ANY($2::text[]) FOR SHARE)
       INSERT INTO ${this.table} (id, user_id, owner, expires_at)
       SELECT $3, $1, $4, ${NOW_MS} + $5::bigint WHERE (SELECT count(*) FROM queued) > 0
       RETURNING id`,
      [userId, keys, randomUUID(), this.owner, ttl],
    );
    const id = rows[0]?.id;
    if (id !== undefined) this.keepAlive(id, ttl);
    return id;
  }

  async release(id: string): Promise<void> {
    const timer = this.refreshers.get(id);
    if (timer) clearInterval(timer);
    this.refreshers.delete(id);
    await this.handle.query("leases.release", `DELETE FROM ${this.table} WHERE id = $1`, [id]);
  }

  /** Resolves once no live write lease of the user is held by any replica; lapsed ones are dropped. */
  async settled(userId: string): Promise<void> {
    for (;;) {
      const rows = await this.handle.query<{ live: string }>(
        "leases.settled",
        `WITH lapsed AS (DELETE FROM ${this.table} WHERE user_id = $1 AND expires_at <= ${NOW_MS})
         SELECT count(*) AS live FROM ${this.table} WHERE user_id = $1 AND expires_at > ${NOW_MS}`,
        [userId],
      );
      if (Number(rows[0]?.live ?? 0) === 0) return;
      await sleep(this.handle.options.pollMs);
    }
  }

  async exclusive<R>(userId: string, name: string, fn: () => Promise<R>): Promise<R> {
    const key = JSON.stringify([this.handle.schema, userId, name]);
    const previous = this.local.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = previous.then(() => mine);
    this.local.set(key, tail);
    try {
      await previous;
      const lock = `engram:exclusive:${key}`;
      // A pool per lock name: a "facts" section takes a "drain" lock (writer.ts) and must find a connection.
      const client = await this.handle.lockClient("leases.exclusive", name);
      let clean = false;
      try {
        await this.lock(client, lock);
        try {
          return await fn();
        } finally {
          // Unlocked on the same session, which then goes back to the pool; a session that cannot
          // unlock is closed instead, and the server drops its locks with it.
          // With the main pool's deadline (lock sessions have none): a server that stops answering
          // here leaves the session unclean, and it is closed, which ends the lock with it.
          const unlock = { text: "SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS ok", values: [lock], query_timeout: this.handle.options.pool.query_timeout };
          clean = await client.query<{ ok: boolean }>(unlock as QueryConfig).then(
            (result) => result.rows[0]?.ok === true,
            () => false,
          );
        }
      } finally {
        this.handle.releaseLockClient(client, clean);
      }
    } finally {
      done();
      if (this.local.get(key) === tail) this.local.delete(key);
    }
  }

  /**
   * Takes the session lock `lock` on `client`, waiting while another session holds it. A wait
   * for a lock is no outage, but a server that stops answering (frozen, a host gone in a
   * failover) looks the same to the client: with the pool's statement deadline (`query_timeout`),
   * the server itself gives up each wait before it (`lock_timeout`, set once per session), and the
   * wait is asked again; no answer by the deadline is an outage (STATE_UNAVAILABLE). Before, a
   * drain waiting here when the server froze waited for ever, and `close()` with it.
   */
  private async lock(client: PoolClient, lock: string): Promise<void> {
    const deadline = this.handle.options.pool.query_timeout ?? 0;
    try {
      if (deadline > 0 && !this.timed.has(client)) {
        await client.query({ text: "SELECT set_config('lock_timeout', $1, false)", values: [String(Math.max(1, Math.floor(deadline / 2)))], query_timeout: deadline } as QueryConfig);
        this.timed.add(client);
      }
      for (;;) {
        const wait = { text: "SELECT pg_advisory_lock(hashtextextended($1, 0))", values: [lock], ...(deadline > 0 ? { query_timeout: deadline } : {}) };
        try {
          await client.query(wait as QueryConfig);
          return;
        } catch (error) {
          if ((error as { code?: unknown } | null)?.code !== LOCK_NOT_AVAILABLE) throw error;
        }
      }
    } catch (error) {
      throw this.handle.wrap("leases.exclusive", error);
    }
  }

  /**
   * Pushes the lease's expiry forward every third of its life until it is released, for at most
   * {@link MAX_HOLD_MS}: a store write hung that long no longer holds up another replica's erasure
   * (as in the SQLite state, whose leases lapse after a minute whatever their process does).
   */
  private keepAlive(id: string, ttl: number): void {
    const until = Date.now() + MAX_HOLD_MS;
    const timer = setInterval(() => {
      if (Date.now() >= until) {
        clearInterval(timer);
        this.refreshers.delete(id);
        return;
      }
      this.handle
        .query("leases.refresh", `UPDATE ${this.table} SET expires_at = ${NOW_MS} + $2::bigint WHERE id = $1`, [id, ttl])
        // A refresh that fails (database unreachable a moment) is retried by the next tick; the
        // lease lapses on its own if none succeeds, which is what a dead replica's does.
        .catch(() => {});
    }, Math.max(1, Math.floor(ttl / 3)));
    timer.unref();
    this.refreshers.set(id, timer);
  }
}
