/** Per-user store revisions (state/types.ts `RevisionState`), in `store_revisions`. */
import type Database from "better-sqlite3";
import type { RevisionBump, RevisionState } from "../types.js";
import { runSql, type SqliteHandle } from "./database.js";

/**
 * Each user's store revision. New values come from one counter row (`store_revision_seq`) that
 * only grows, so a value is never taken twice, even by a user erased and written again; a bump
 * reads and advances in one immediate transaction, so two processes never return the same
 * `before`.
 */
export class SqliteRevisions implements RevisionState {
  private ready = false;

  constructor(private readonly handle: SqliteHandle) {}

  private get db(): Database.Database {
    return this.handle.db();
  }

  async read(userId: string): Promise<number | null> {
    this.ensureTables();
    const row = runSql(this.db, "revisions.read", () =>
      this.db.prepare<[string], { revision: number }>("SELECT revision FROM store_revisions WHERE user_id = ?").get(userId),
    );
    return row?.revision ?? null;
  }

  async bump(userId: string): Promise<RevisionBump> {
    this.ensureTables();
    const db = this.db;
    return runSql(db, "revisions.bump", () =>
      db
        .transaction(() => {
          const before = db.prepare<[string], { revision: number }>("SELECT revision FROM store_revisions WHERE user_id = ?").get(userId);
          db.prepare("UPDATE store_revision_seq SET value = value + 1 WHERE id = 1").run();
          const after = db.prepare<[], { value: number }>("SELECT value FROM store_revision_seq WHERE id = 1").get()!.value;
          db.prepare("INSERT INTO store_revisions (user_id, revision) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET revision = excluded.revision").run(
            userId,
            after,
          );
          return { before: before?.revision ?? null, after };
        })
        .immediate(),
    );
  }

  async clear(): Promise<void> {
    this.ensureTables();
    runSql(this.db, "revisions.clear", () => this.db.prepare("DELETE FROM store_revisions").run());
  }

  /** Makes the tables (outside any transaction: the state's erase runs this first). */
  ensureTables(): void {
    if (this.ready) return;
    const db = this.db;
    runSql(db, "revisions", () =>
      db.exec(
        "CREATE TABLE IF NOT EXISTS store_revisions (user_id TEXT PRIMARY KEY, revision INTEGER NOT NULL);" +
          "CREATE TABLE IF NOT EXISTS store_revision_seq (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);" +
          "INSERT OR IGNORE INTO store_revision_seq (id, value) VALUES (1, 0);",
      ),
    );
    this.ready = true;
  }
}
