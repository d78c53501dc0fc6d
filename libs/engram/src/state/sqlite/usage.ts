/** Token usage of Engram's own model calls, one row per call, in the `model_usage` table. */
import type Database from "better-sqlite3";
import type { UsageCall, UsageState, UsageTotalsRow } from "../types.js";
import { runSql, type SqliteHandle } from "./database.js";

interface TotalsRow {
  user_id: string;
  kind: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  unreported: number;
  last_at: number;
}

/**
 * Usage in the shared SQLite file beside the history log, so another process (the CLI's
 * `engram ui`) reads what this one spent. Rows name the user, so erasure takes them too.
 */
export class SqliteUsage implements UsageState {
  private ready = false;

  constructor(private readonly handle: SqliteHandle) {}

  private get db(): Database.Database {
    return this.handle.db();
  }

  async record(call: UsageCall): Promise<void> {
    const { usage } = call;
    runSql(this.db, "usage.record", () => {
      this.ensureReady();
      this.db
        .prepare("INSERT INTO model_usage (user_id, kind, input_tokens, output_tokens, total_tokens, reported, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(call.userId, call.kind, usage.inputTokens, usage.outputTokens, usage.totalTokens, usage.reported ? 1 : 0, this.handle.clock());
    });
  }

  async totals(filter: { userId?: string }): Promise<UsageTotalsRow[]> {
    const rows = runSql(this.db, "usage.totals", () => {
      this.ensureReady();
      const where = filter.userId === undefined ? "" : "WHERE user_id = ?";
      const statement = this.db.prepare<unknown[], TotalsRow>(
        `SELECT user_id, kind, COUNT(*) AS calls, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
                SUM(total_tokens) AS total_tokens, SUM(1 - reported) AS unreported, MAX(at) AS last_at
         FROM model_usage ${where} GROUP BY user_id, kind`,
      );
      return filter.userId === undefined ? statement.all() : statement.all(filter.userId);
    });
    return rows.map((row) => ({
      userId: row.user_id,
      kind: row.kind,
      calls: row.calls,
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      totalTokens: row.total_tokens,
      unreported: row.unreported,
      lastAt: row.last_at,
    }));
  }

  async deleteUser(userId: string): Promise<number> {
    return runSql(this.db, "usage.deleteUser", () => {
      this.ensureReady();
      return this.db.prepare("DELETE FROM model_usage WHERE user_id = ?").run(userId).changes;
    });
  }

  private ensureReady(): void {
    if (this.ready) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS model_usage (
        seq INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        reported INTEGER NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS model_usage_user ON model_usage (user_id, kind);
    `);
    this.ready = true;
  }
}
