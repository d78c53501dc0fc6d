/**
 * Write leases and per-user exclusive locks of the SQLite state, shared by every process on one
 * data folder (tables `write_leases` and `state_locks`).
 */
import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import { KeyedQueue } from "../../core/keyed_queue.js";
import type { LeaseState } from "../types.js";
import { runSql, type SqliteHandle } from "./database.js";
import { ensureOutboxTable } from "./outbox.js";

/**
 * A lease lapses after this long even if its process still runs (a store write hung that long).
 * A lease of a process that died (kill -9 mid-write) is dropped at once: its pid is checked.
 */
const LEASE_MS = 60_000;
const POLL_MS = 10;
/** A held exclusive lock is renewed this often, so a long section (model calls) keeps it. */
const RENEW_MS = LEASE_MS / 3;

interface Statements {
  queued: Database.Statement<[string, string]>;
  take: Database.Statement<[string, string, number, number]>;
  release: Database.Statement<[string]>;
  held: Database.Statement<[string, number], { id: string; pid: number }>;
  lockHolder: Database.Statement<[string, string], { owner: string; pid: number; expires_at: number }>;
  lockTake: Database.Statement<[string, string, string, number, number]>;
  lockRenew: Database.Statement<[number, string, string, string]>;
  lockRelease: Database.Statement<[string, string, string]>;
}

/**
 * Store writes in flight, per user, shared by every instance on one data folder (its SQLite
 * file), so that `deleteAll` in one instance cannot be undone by another instance's drain.
 *
 * The race it closes: instance A reads a queued write of the user from the shared outbox and
 * starts writing it to the store; instance B runs deleteAll (drops the user's queued writes,
 * erases the store); A's write lands after the erase and the user's record comes back. With
 * leases, A takes a lease in the same SQLite transaction that checks its write is still queued,
 * and B drops the queued writes and then waits until no lease of the user is held before it
 * erases the store. SQLite transactions are serial, so either A's check came first (B waits for
 * A's write to land, then erases it) or B's drop came first (A finds its write gone, and skips it:
 * it was erased, or another drainer already applied it).
 *
 * `exclusive` is a named per-user lock: in this process a keyed queue, across processes a row of
 * `state_locks` taken in an immediate transaction, renewed while held, and taken over when its
 * holder's process is gone or its lease lapsed.
 */
export class SqliteLeases implements LeaseState {
  private statements?: Statements;

  private readonly local = new KeyedQueue();

  /** Names this instance's lock rows (several instances may share a process). */
  private readonly owner = randomUUID();

  /**
   * Leases of this instance whose write is over but whose row could not be removed (a full disk,
   * the file busy past its timeout): removed at the next chance. Until then `settled` does not wait
   * for them, here or (once removed) anywhere: otherwise a deleteAll of the user waited out the
   * lease (a minute) in every instance on the folder after the disk had space again.
   */
  private readonly unreleased = new Set<string>();

  /**
   * Exclusive locks (JSON [userId, name]) this instance left but could not remove, for the same
   * reason: removed at the next chance, so another instance or process does not wait out the lock.
   */
  private readonly unlocked = new Set<string>();

  /** Leases are about processes being alive, so they use the real time, never a Memory's clock. */
  private readonly clock = Date.now;

  constructor(private readonly handle: SqliteHandle) {}

  private get db(): Database.Database {
    return this.handle.db();
  }

  /**
   * Takes a lease on the user's store writes if any of `keys` (outbox keys, e.g. `upsert:<id>`)
   * is still queued; returns its id, or undefined when none is (nothing to write any more).
   */
  async take(userId: string, keys: string[]): Promise<string | undefined> {
    this.releaseLeftovers();
    return runSql(this.db, "leases.take", () => {
      const s = this.ready();
      return this.db.transaction(() => {
        if (!keys.some((key) => s.queued.get(userId, key) !== undefined)) return undefined;
        const id = randomUUID();
        s.take.run(id, userId, process.pid, this.clock() + LEASE_MS);
        return id;
      }).immediate();
    });
  }

  /**
   * Ends a lease. Never fails: the write it covered is over (applied or failed), and reporting the
   * state's failure here would turn an applied write into a failed one; the row is removed later.
   */
  async release(id: string): Promise<void> {
    this.unreleased.add(id);
    this.releaseLeftovers();
  }

  /**
   * Removes the rows of leases and locks already ended here, as far as the state lets it now;
   * whether none is left.
   */
  releaseLeftovers(): boolean {
    try {
      for (const id of this.unreleased) {
        runSql(this.db, "leases.release", () => this.ready().release.run(id));
        this.unreleased.delete(id);
      }
      for (const key of this.unlocked) {
        const [userId, name] = JSON.parse(key) as [string, string];
        runSql(this.db, "leases.exclusive", () => this.ready().lockRelease.run(userId, name, this.owner));
        this.unlocked.delete(key);
      }
      return true;
    } catch {
      // The state still refuses (or was closed): the next call tries again.
      return false;
    }
  }

  /** Resolves once no live lease of the user is held (by any instance on this data folder). */
  async settled(userId: string): Promise<void> {
    this.releaseLeftovers();
    for (;;) {
      const held = runSql(this.db, "leases.settled", () => {
        const s = this.ready();
        return s.held.all(userId, this.clock()).filter((lease) => {
          if (this.unreleased.has(lease.id)) return false;
          if (isAlive(lease.pid)) return true;
          s.release.run(lease.id);
          return false;
        });
      });
      if (held.length === 0) return;
      await sleep(POLL_MS);
    }
  }

  exclusive<R>(userId: string, name: string, fn: () => Promise<R>): Promise<R> {
    return this.local.run(JSON.stringify([userId, name]), async () => {
      await this.lock(userId, name);
      const renew = setInterval(() => {
        try {
          runSql(this.db, "leases.exclusive", () => this.ready().lockRenew.run(this.clock() + LEASE_MS, userId, name, this.owner));
        } catch {
          // Closed under a late section: the lock lapses by itself.
        }
      }, RENEW_MS);
      renew.unref();
      try {
        return await fn();
      } finally {
        clearInterval(renew);
        try {
          runSql(this.db, "leases.exclusive", () => this.ready().lockRelease.run(userId, name, this.owner));
        } catch {
          // Closed meanwhile (the row lapses with its lease, or with its process), or the state
          // refuses writes for now (a full disk): removed at this instance's next state call.
          this.unlocked.add(JSON.stringify([userId, name]));
        }
      }
    });
  }

  /** Waits until this instance holds the row lock (userId, name). */
  private async lock(userId: string, name: string): Promise<void> {
    // This instance takes the row again: a leftover removal of it must not remove the new hold.
    this.unlocked.delete(JSON.stringify([userId, name]));
    this.releaseLeftovers();
    for (;;) {
      const taken = runSql(this.db, "leases.exclusive", () => {
        const s = this.ready();
        return this.db.transaction(() => {
          const holder = s.lockHolder.get(userId, name);
          if (holder && holder.owner !== this.owner && holder.expires_at > this.clock() && isAlive(holder.pid)) return false;
          s.lockTake.run(userId, name, this.owner, process.pid, this.clock() + LEASE_MS);
          return true;
        }).immediate();
      });
      if (taken) return;
      await sleep(POLL_MS);
    }
  }

  private ready(): Statements {
    if (this.statements) return this.statements;
    const db = this.db;
    // A lease checks that its write is still queued, so the outbox table must exist.
    ensureOutboxTable(db);
    db.exec(`
      CREATE TABLE IF NOT EXISTS write_leases (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, pid INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS write_leases_user ON write_leases (user_id);
      CREATE TABLE IF NOT EXISTS state_locks (
        user_id TEXT NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL, pid INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, name)
      );
    `);
    this.statements = {
      queued: db.prepare<[string, string]>("SELECT 1 FROM outbox WHERE user_id = ? AND key = ?"),
      take: db.prepare<[string, string, number, number]>("INSERT INTO write_leases (id, user_id, pid, expires_at) VALUES (?, ?, ?, ?)"),
      release: db.prepare<[string]>("DELETE FROM write_leases WHERE id = ?"),
      held: db.prepare<[string, number], { id: string; pid: number }>("SELECT id, pid FROM write_leases WHERE user_id = ? AND expires_at > ?"),
      lockHolder: db.prepare<[string, string], { owner: string; pid: number; expires_at: number }>(
        "SELECT owner, pid, expires_at FROM state_locks WHERE user_id = ? AND name = ?",
      ),
      lockTake: db.prepare<[string, string, string, number, number]>(
        "INSERT OR REPLACE INTO state_locks (user_id, name, owner, pid, expires_at) VALUES (?, ?, ?, ?, ?)",
      ),
      lockRenew: db.prepare<[number, string, string, string]>("UPDATE state_locks SET expires_at = ? WHERE user_id = ? AND name = ? AND owner = ?"),
      lockRelease: db.prepare<[string, string, string]>("DELETE FROM state_locks WHERE user_id = ? AND name = ? AND owner = ?"),
    };
    return this.statements;
  }
}

/** Whether a process of this machine runs (the data folder's SQLite file is local to it). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
