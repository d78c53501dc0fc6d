import type Database from "better-sqlite3";
import { EngramError } from "../core/errors.js";
import type { TokenUsage, UsageHook } from "../core/token_usage.js";
import { runSql } from "../store/sqlite.js";
import { describeValue } from "../core/describe.js";

/** Which of Engram's own model calls used the tokens. */
export type UsageKind = "extraction" | "reconciliation" | "summary" | "importance";

export const USAGE_KINDS: readonly UsageKind[] = ["extraction", "reconciliation", "summary", "importance"];

/** Tokens and calls, summed. */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Calls whose reply carried no usage metadata: counted as calls, their tokens unknown. */
  unreported: number;
}

/** What `memory.usage()` returns: what memory added to the model bill, in tokens. */
export interface UsageReport {
  /** Everything counted (for the one user when `userId` was given). */
  total: UsageTotals;
  /** The same, by kind of call (every kind present, zeros when unused). */
  byKind: Record<UsageKind, UsageTotals>;
  /** By user, most tokens first. Calls made outside any user (`userId` unknown) are under "". */
  byUser: Array<{ userId: string; total: UsageTotals; byKind: Record<UsageKind, UsageTotals>; lastAt: number }>;
}

/** Options of `memory.usage(options)`. */
export interface UsageOptions {
  /** Only this user's calls. @default every user */
  userId?: string;
}

interface UsageRow {
  user_id: string;
  kind: UsageKind;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  unreported: number;
  last_at: number;
}

/**
 * Token accounting of Engram's own model calls, one row per call in the shared SQLite file beside
 * the history log, so another process (the CLI's `engram ui`) reads what this one spent. Rows name
 * the user, so `deleteAll` erases them with the rest of the user.
 */
export class UsageLog {
  private ready = false;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: () => number = Date.now,
  ) {}

  record(userId: string, kind: UsageKind, usage: TokenUsage): void {
    runSql(this.db, "usage.record", () => {
      this.ensureReady();
      this.db
        .prepare("INSERT INTO model_usage (user_id, kind, input_tokens, output_tokens, total_tokens, reported, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(userId, kind, usage.inputTokens, usage.outputTokens, usage.totalTokens, usage.reported ? 1 : 0, this.clock());
    });
  }

  /** A hook for one user and kind of call; a failure to record is dropped, never thrown into the call. */
  hook(kind: UsageKind, userId = ""): UsageHook {
    if (!(USAGE_KINDS as readonly string[]).includes(kind)) {
      throw new EngramError("INVALID_OPTIONS", `usage kind must be one of ${USAGE_KINDS.join(", ")}, got ${describeValue(kind)}.`);
    }
    return (usage) => {
      try {
        this.record(userId, kind, usage);
      } catch {
        // The database closed under a late call: accounting is best effort.
      }
    };
  }

  report(options: UsageOptions = {}): UsageReport {
    const rows = runSql(this.db, "usage.report", () => {
      this.ensureReady();
      const where = options.userId === undefined ? "" : "WHERE user_id = ?";
      const statement = this.db.prepare<unknown[], UsageRow>(
        `SELECT user_id, kind, COUNT(*) AS calls, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
                SUM(total_tokens) AS total_tokens, SUM(1 - reported) AS unreported, MAX(at) AS last_at
         FROM model_usage ${where} GROUP BY user_id, kind`,
      );
      return options.userId === undefined ? statement.all() : statement.all(options.userId);
    });
    const report: UsageReport = { total: zero(), byKind: byKindZero(), byUser: [] };
    const users = new Map<string, UsageReport["byUser"][number]>();
    for (const row of rows) {
      const totals: UsageTotals = {
        calls: row.calls,
        inputTokens: row.input_tokens,
        outputTokens: row.output_tokens,
        totalTokens: row.total_tokens,
        unreported: row.unreported,
      };
      let user = users.get(row.user_id);
      if (!user) users.set(row.user_id, (user = { userId: row.user_id, total: zero(), byKind: byKindZero(), lastAt: 0 }));
      user.lastAt = Math.max(user.lastAt, row.last_at);
      for (const target of [report.total, report.byKind[row.kind], user.total, user.byKind[row.kind]]) add(target, totals);
    }
    report.byUser = [...users.values()].sort((a, b) => b.total.totalTokens - a.total.totalTokens || a.userId.localeCompare(b.userId));
    return report;
  }

  /** Erases the user's rows; returns how many. */
  deleteUser(userId: string): number {
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

function zero(): UsageTotals {
  return { calls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, unreported: 0 };
}

function byKindZero(): Record<UsageKind, UsageTotals> {
  return { extraction: zero(), reconciliation: zero(), summary: zero(), importance: zero() };
}

function add(target: UsageTotals, more: UsageTotals): void {
  target.calls += more.calls;
  target.inputTokens += more.inputTokens;
  target.outputTokens += more.outputTokens;
  target.totalTokens += more.totalTokens;
  target.unreported += more.unreported;
}
