import type { PoolClient } from "pg";
import type { HistoryEntry, HistoryEvent } from "../../core/types.js";
import { groupByMemory, stampHistory } from "../history_stamp.js";
import type { HistoryState, NewHistoryEntry } from "../types.js";
import type { PgHandle } from "./handle.js";

interface HistoryRow {
  id: string;
  memory_id: string;
  user_id: string;
  event: HistoryEvent;
  old_content: string | null;
  new_content: string | null;
  at: string;
  reason: string | null;
}

/**
 * Inserts entries with one statement (arrays unnested in order, so `seq` keeps the batch's order
 * and breaks ties between entries of the same time), on a transaction's connection or the pool's.
 */
export async function insertHistory(client: Pick<PoolClient, "query">, table: string, entries: readonly HistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO ${table} (id, memory_id, user_id, event, old_content, new_content, at, reason)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])`,
    historyColumns(entries),
  );
}

/** Entries as the eight column arrays of the history table (id, memory_id, ..., reason), for unnest. */
export function historyColumns(entries: readonly HistoryEntry[]): unknown[][] {
  return [
    entries.map((e) => e.id),
    entries.map((e) => e.memoryId),
    entries.map((e) => e.userId),
    entries.map((e) => e.event),
    entries.map((e) => e.oldContent),
    entries.map((e) => e.newContent),
    entries.map((e) => e.at),
    entries.map((e) => e.reason),
  ];
}

/** The history log in PostgreSQL: every read and delete is scoped by user. */
export class PostgresHistory implements HistoryState {
  constructor(private readonly handle: PgHandle) {}

  private get table(): string {
    return this.handle.table("history");
  }

  async record(entries: NewHistoryEntry[]): Promise<HistoryEntry[]> {
    if (entries.length === 0) return [];
    const recorded = stampHistory(entries, this.handle.clock());
    const pool = await this.handle.ready();
    try {
      // One statement: all entries or none.
      await insertHistory(pool, this.table, recorded);
    } catch (error) {
      throw this.handle.wrap("history.record", error);
    }
    return recorded;
  }

  async forMemory(memoryId: string, userId: string): Promise<HistoryEntry[]> {
    const rows = await this.handle.query<HistoryRow>(
      "history.forMemory",
      `SELECT id, memory_id, user_id, event, old_content, new_content, at, reason
       FROM ${this.table} WHERE user_id = $1 AND memory_id = $2 ORDER BY at, seq`,
      [userId, memoryId],
    );
    return rows.map(fromRow);
  }

  /** One read for many memories: the replay check of an import. */
  async forMemories(memoryIds: readonly string[], userId: string): Promise<Map<string, HistoryEntry[]>> {
    if (memoryIds.length === 0) return new Map();
    const rows = await this.handle.query<HistoryRow>(
      "history.forMemories",
      `SELECT id, memory_id, user_id, event, old_content, new_content, at, reason
       FROM ${this.table} WHERE user_id = $1 AND memory_id = ANY($2::text[]) ORDER BY at, seq`,
      [userId, memoryIds],
    );
    return groupByMemory(rows.map(fromRow));
  }

  async deleteUser(userId: string): Promise<number> {
    return deleteUserRows(this.handle, "history.deleteUser", this.table, userId);
  }

  /** Each user's latest entry time, for the inspector's activity column. */
  async latest(): Promise<Array<{ userId: string; at: number }>> {
    const rows = await this.handle.query<{ user_id: string; at: string }>(
      "history.latest",
      `SELECT user_id, max(at) AS at FROM ${this.table} GROUP BY user_id`,
    );
    // bigint arrives as a string: times in milliseconds fit a double exactly.
    return rows.map((row) => ({ userId: row.user_id, at: Number(row.at) }));
  }

  async countUser(userId: string): Promise<number> {
    const rows = await this.handle.query<{ n: string }>("history.countUser", `SELECT count(*) AS n FROM ${this.table} WHERE user_id = $1`, [userId]);
    return Number(rows[0]?.n ?? 0);
  }
}

/** `DELETE ... WHERE user_id = $1`, returning how many rows went. */
export async function deleteUserRows(handle: PgHandle, what: string, table: string, userId: string): Promise<number> {
  const rows = await handle.query<{ n: string }>(what, `WITH gone AS (DELETE FROM ${table} WHERE user_id = $1 RETURNING 1) SELECT count(*) AS n FROM gone`, [userId]);
  return Number(rows[0]?.n ?? 0);
}

function fromRow(row: HistoryRow): HistoryEntry {
  return {
    id: row.id,
    memoryId: row.memory_id,
    userId: row.user_id,
    event: row.event,
    oldContent: row.old_content,
    newContent: row.new_content,
    at: Number(row.at),
    reason: row.reason,
  };
}
