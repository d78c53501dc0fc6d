/** Key-value facts about a data folder (which embedding model wrote it), in `engram_meta`. */
import type Database from "better-sqlite3";
import type { MetaState } from "../types.js";
import { runSql, type SqliteHandle } from "./database.js";

/**
 * The folder's metadata. `set` without `replace` keeps the first value recorded, so of two
 * processes that race to record a model, both read back the same one.
 */
export class SqliteMeta implements MetaState {
  private ready = false;

  constructor(private readonly handle: SqliteHandle) {}

  private get db(): Database.Database {
    return this.handle.db();
  }

  async get(key: string): Promise<string | undefined> {
    return this.getNow(key);
  }

  async set(key: string, value: string, options: { replace: boolean }): Promise<string> {
    this.ensureTable();
    const verb = options.replace ? "INSERT OR REPLACE" : "INSERT OR IGNORE";
    runSql(this.db, "meta.set", () =>
      this.db.prepare(`${verb} INTO engram_meta (key, value, updated_at) VALUES (?, ?, ?)`).run(key, value, Date.now()),
    );
    return this.getNow(key) ?? value;
  }

  /** True when the folder holds writes (history or queued writes), e.g. from before it recorded a model. */
  async hasData(): Promise<boolean> {
    const db = this.db;
    return runSql(db, "meta.hasData", () => {
      for (const table of ["history", "outbox"]) {
        const exists = db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
        if (!exists?.n) continue;
        const row = db.prepare<[], { one: number }>(`SELECT 1 AS one FROM ${table} LIMIT 1`).get();
        if (row) return true;
      }
      return false;
    });
  }

  private getNow(key: string): string | undefined {
    this.ensureTable();
    const row = runSql(this.db, "meta.get", () =>
      this.db.prepare<[string], { value: string }>("SELECT value FROM engram_meta WHERE key = ?").get(key),
    );
    return row?.value;
  }

  private ensureTable(): void {
    if (this.ready) return;
    const db = this.db;
    runSql(db, "meta", () => db.exec("CREATE TABLE IF NOT EXISTS engram_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)"));
    this.ready = true;
  }
}
