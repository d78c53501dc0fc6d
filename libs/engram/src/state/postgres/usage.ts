import type { UsageCall, UsageState, UsageTotalsRow } from "../types.js";
import type { PgHandle } from "./handle.js";
import { deleteUserRows } from "./history.js";

interface TotalsRow {
  user_id: string;
  kind: string;
  calls: string;
  input_tokens: string;
  output_tokens: string;
  total_tokens: string;
  unreported: string;
  last_at: string;
}

/** Token usage of Engram's own model calls, one row per call, summed on read. */
export class PostgresUsage implements UsageState {
  constructor(private readonly handle: PgHandle) {}

  private get table(): string {
    return this.handle.table("model_usage");
  }

  async record(call: UsageCall): Promise<void> {
    const { usage } = call;
    await this.handle.query(
      "usage.record",
      `INSERT INTO ${this.table} (user_id, kind, input_tokens, output_tokens, total_tokens, reported, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [call.userId, call.kind, usage.inputTokens, usage.outputTokens, usage.totalTokens, usage.reported, this.handle.clock()],
    );
  }

  async totals(filter: { userId?: string }): Promise<UsageTotalsRow[]> {
    const rows = await this.handle.query<TotalsRow>(
      "usage.totals",
      `SELECT user_id, kind, count(*) AS calls, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
              sum(total_tokens) AS total_tokens, count(*) FILTER (WHERE NOT reported) AS unreported, max(at) AS last_at
       FROM ${this.table} WHERE ($1::text IS NULL OR user_id = $1) GROUP BY user_id, kind ORDER BY user_id, kind`,
      [filter.userId ?? null],
    );
    return rows.map((row) => ({
      userId: row.user_id,
      kind: row.kind,
      calls: Number(row.calls),
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      totalTokens: Number(row.total_tokens),
      unreported: Number(row.unreported),
      lastAt: Number(row.last_at),
    }));
  }

  async deleteUser(userId: string): Promise<number> {
    return deleteUserRows(this.handle, "usage.deleteUser", this.table, userId);
  }
}
