import type { MetaState } from "../types.js";
import type { PgHandle } from "./handle.js";

/**
 * Small facts about the state (which embedding model wrote its vectors). `set` without `replace`
 * keeps the first value recorded (`ON CONFLICT DO NOTHING`), so of two replicas that race to
 * record a model, both read back the same one.
 */
export class PostgresMeta implements MetaState {
  constructor(private readonly handle: PgHandle) {}

  private get table(): string {
    return this.handle.table("meta");
  }

  async get(key: string): Promise<string | undefined> {
    const rows = await this.handle.query<{ value: string }>("meta.get", `SELECT value FROM ${this.table} WHERE key = $1`, [key]);
    return rows[0]?.value;
  }

  async set(key: string, value: string, options: { replace: boolean }): Promise<string> {
    const conflict = options.replace ? "DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at" : "DO NOTHING";
    await this.handle.query(
      "meta.set",
      `INSERT INTO ${this.table} (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) ${conflict}`,
      [key, value, Date.now()],
    );
    return (await this.get(key)) ?? value;
  }

  async hasData(): Promise<boolean> {
    const rows = await this.handle.query<{ any: boolean }>(
      "meta.hasData",
      `SELECT EXISTS (SELECT 1 FROM ${this.handle.table("history")}) OR EXISTS (SELECT 1 FROM ${this.handle.table("outbox")}) AS any`,
    );
    return rows[0]?.any === true;
  }
}
