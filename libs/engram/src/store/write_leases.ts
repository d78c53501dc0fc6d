import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";

/**
 * A lease lapses after this long even if its process still runs (a store write hung that long).
 * A lease of a process that died (kill -9 mid-write) is dropped at once: its pid is checked.
 */
const LEASE_MS = 60_000;
const POLL_MS = 10;

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
 */
export class WriteLeases {
  private queued?: Database.Statement<[string, string]>;

  private statements?: {
    take: Database.Statement<[string, string, number, number]>;
    release: Database.Statement<[string]>;
    held: Database.Statement<[string, number], { id: string; pid: number }>;
  };

  /** Leases are about processes being alive, so they use the real time, never a Memory's clock. */
  private readonly clock = Date.now;

  constructor(private readonly db: Database.Database) {}

  /**
   * Takes a lease on the user's store writes if any of `keys` (outbox keys, e.g. `upsert:<id>`)
   * is still queued; returns its id, or undefined when none is (nothing to write any more).
   */
  take(userId: string, keys: string[]): string | undefined {
    const s = this.ready();
    // The outbox made its table when the write was queued, which is before any lease is asked for.
    const queued = (this.queued ??= this.db.prepare<[string, string]>("SELECT 1 FROM outbox WHERE user_id = ? AND key = ?"));
    return this.db.transaction(() => {
      if (!keys.some((key) => queued.get(userId, key) !== undefined)) return undefined;
      const id = randomUUID();
      s.take.run(id, userId, process.pid, this.clock() + LEASE_MS);
      return id;
    }).immediate();
  }

  release(id: string): void {
    this.ready().release.run(id);
  }

  /** Resolves once no live lease of the user is held (by any instance on this data folder). */
  async settled(userId: string): Promise<void> {
    const s = this.ready();
    for (;;) {
      const held = s.held.all(userId, this.clock()).filter((lease) => {
        if (isAlive(lease.pid)) return true;
        s.release.run(lease.id);
        return false;
      });
      if (held.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private ready(): NonNullable<WriteLeases["statements"]> {
    if (this.statements) return this.statements;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS write_leases (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, pid INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS write_leases_user ON write_leases (user_id);
    `);
    this.statements = {
      take: this.db.prepare<[string, string, number, number]>("INSERT INTO write_leases (id, user_id, pid, expires_at) VALUES (?, ?, ?, ?)"),
      release: this.db.prepare<[string]>("DELETE FROM write_leases WHERE id = ?"),
      held: this.db.prepare<[string, number], { id: string; pid: number }>("SELECT id, pid FROM write_leases WHERE user_id = ? AND expires_at > ?"),
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
