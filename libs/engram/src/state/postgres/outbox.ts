import { describeValue } from "../../core/describe.js";
import { EngramError } from "../../core/errors.js";
import type { NewHistoryEntry, OutboxItem, OutboxState, PendingOptions, PendingWrite } from "../types.js";
import { NOW_MS, type PgHandle } from "./handle.js";
import { stampHistory } from "../history_stamp.js";
import { deleteUserRows, historyColumns } from "./history.js";

interface OutboxRow {
  seq: string;
  user_id: string;
  key: string;
  payload: string;
  created_at: string;
  attempts: number;
  last_error: string | null;
  /** jsonb, parsed by pg. */
  history: NewHistoryEntry[] | null;
}

const COLUMNS = "seq, user_id, key, payload, created_at, attempts, last_error, history";

/** Longest `lastError` kept, in characters (a stack of a failing store can be long). */
const MAX_ERROR_CHARS = 2_000;

/**
 * The outbox of store writes in PostgreSQL, shared by every replica.
 *
 * Supersede-by-key: queueing a (user, key) that is queued already moves the row to the back with
 * a new seq (from the BIGSERIAL, so a seq is never handed out twice), the new payload and the
 * replaced row's history entries ahead of its own, in one `INSERT ... ON CONFLICT` (two replicas
 * queueing the same key at once cannot both insert, and the second appends to the first's). A
 * drainer that applied the old payload then completes a seq that no longer exists, and the newer
 * write stays queued. The replaced row's claim, if live, stays on the new row: the replica applying
 * the old payload still holds the user, so no other replica can apply the new payload at the same
 * time and see it overwritten by the old one landing late.
 *
 * Claims (`claimed_by`, `claimed_until`, timed by the server's clock): `claim` locks candidate
 * rows `FOR UPDATE SKIP LOCKED`, so replicas that claim at once never wait on nor take the same
 * rows, and returns a user's writes only as an unbroken prefix of that user's queue (a later
 * delete never overtakes an earlier upsert of the same id on another replica).
 */
export class PostgresOutbox<T> implements OutboxState<T> {
  constructor(private readonly handle: PgHandle) {}

  private get table(): string {
    return this.handle.table("outbox");
  }

  /**
   * Queues writes in one transaction and returns their seqs, in the order given.
   * @throws EngramError `OUTBOX_ERROR` when a payload is not JSON-serialisable (nothing is queued).
   */
  async enqueue(items: Array<OutboxItem<T>>): Promise<number[]> {
    if (items.length === 0) return [];
    const payloads = items.map((item, index) => serialise(item.payload, index));
    const histories = items.map((item) => JSON.stringify(item.history ? [item.history] : []));
    const now = this.handle.clock();
    // A row queued by an older version has no history column (null): it carries nothing over.
    const upsert = `INSERT INTO ${this.table} AS o (user_id, key, payload, created_at, history)
      SELECT u, k, p, c, h::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) AS x(u, k, p, c, h)
      ON CONFLICT (user_id, key) DO UPDATE SET seq = DEFAULT, payload = EXCLUDED.payload, created_at = EXCLUDED.created_at,
        attempts = 0, last_error = NULL, history = COALESCE(o.history, '[]'::jsonb) || EXCLUDED.history
      RETURNING seq, user_id, key`;
    // An item marked keepQueued leaves a queued write of its key in place (and is dropped): it is
    // inserted only where no row of its key exists, else it answers with that row's seq.
    const insertNew = `WITH added AS (
        INSERT INTO ${this.table} (user_id, key, payload, created_at, history) VALUES ($1, $2, $3, $4, $5::jsonb)
        ON CONFLICT (user_id, key) DO NOTHING RETURNING seq)
      SELECT seq FROM added UNION ALL SELECT seq FROM ${this.table} WHERE user_id = $1 AND key = $2 AND NOT EXISTS (SELECT 1 FROM added)`;
    const distinct = new Set(items.map((item) => JSON.stringify([item.userId, item.key]))).size === items.length;
    if (!distinct || items.some((item) => item.keepQueued === true)) {
      // A key twice in one batch, or an item that must not replace: one statement per item, in a
      // transaction, so each sees the ones before it.
      return this.handle.tx("outbox.enqueue", async (client) => {
        const seqs: number[] = [];
        for (const [index, item] of items.entries()) {
          let rows: Array<{ seq: string }> = [];
          // A row of the key committed by another replica after this statement's snapshot makes
          // the insert do nothing while the select does not see it yet: the next statement does.
          for (let attempt = 0; rows.length === 0 && attempt < 3; attempt += 1) {
            ({ rows } = item.keepQueued
              ? await client.query<{ seq: string }>(insertNew, [item.userId, item.key, payloads[index], now, histories[index]])
              : await client.query<{ seq: string }>(upsert, [[item.userId], [item.key], [payloads[index]], [now], [histories[index]]]));
          }
          if (rows.length === 0) throw new EngramError("OUTBOX_ERROR", `outbox.enqueue: no row for ${item.key} after three tries`);
          seqs.push(Number(rows[0]!.seq));
        }
        return seqs;
      });
    }
    // One statement: all items or none, in one round trip.
    const rows = await this.handle.query<{ seq: string; user_id: string; key: string }>("outbox.enqueue", upsert, [
      items.map((item) => item.userId),
      items.map((item) => item.key),
      payloads,
      items.map(() => now),
      histories,
    ]);
    const seqOf = new Map(rows.map((row) => [JSON.stringify([row.user_id, row.key]), Number(row.seq)]));
    return items.map((item) => seqOf.get(JSON.stringify([item.userId, item.key]))!);
  }

  /** Queued writes, oldest first (the order they must be replayed in). */
  async pending(options: PendingOptions = {}): Promise<Array<PendingWrite<T>>> {
    checkLimit(options.limit);
    const rows = await this.handle.query<OutboxRow>(
      "outbox.pending",
      `SELECT ${COLUMNS} FROM ${this.table} WHERE ($1::text IS NULL OR user_id = $1) ORDER BY seq LIMIT $2`,
      [options.userId ?? null, options.limit ?? null],
    );
    return rows.map((row) => fromRow<T>(row));
  }

  /**
   * `pending`, leased to `owner` for `leaseMs`. Candidates are the writes not claimed by another
   * live owner, of users none of whose writes another live owner holds, locked with SKIP LOCKED;
   * of those, a write is taken only if every older write of its user was locked by this call too
   * (rows another transaction holds at this instant would otherwise be overtaken).
   */
  async claim(owner: string, leaseMs: number, options: PendingOptions = {}): Promise<Array<PendingWrite<T>>> {
    checkLimit(options.limit);
    checkClaim(owner, leaseMs);
    const t = this.table;
    const rows = await this.handle.query<OutboxRow>(
      "outbox.claim",
      `WITH now AS (SELECT ${NOW_MS} AS ms),
      locked AS (
        SELECT o.seq, o.user_id FROM ${t} o, now
        WHERE ($3::text IS NULL OR o.user_id = $3)
          -- On the row itself too: a claim committed after this statement's snapshot is seen here
          -- when the row is locked (the re-check), and missed by the NOT EXISTS below.
          AND (o.claimed_by IS NULL OR o.claimed_by = $1 OR o.claimed_until <= now.ms)
          AND NOT EXISTS (SELECT 1 FROM ${t} c WHERE c.user_id = o.user_id AND c.claimed_by IS NOT NULL
                          AND c.claimed_by <> $1 AND c.claimed_until > now.ms)
        ORDER BY o.seq LIMIT $4
        FOR UPDATE OF o SKIP LOCKED
      ),
      taken AS (
        SELECT l.seq FROM locked l
        WHERE NOT EXISTS (SELECT 1 FROM ${t} p WHERE p.user_id = l.user_id AND p.seq < l.seq
                          AND p.seq NOT IN (SELECT seq FROM locked))
      )
      UPDATE ${t} o SET claimed_by = $1, claimed_until = now.ms + $2::bigint
      FROM taken, now WHERE o.seq = taken.seq
      RETURNING o.seq, o.user_id, o.key, o.payload, o.created_at, o.attempts, o.last_error, o.history`,
      [owner, leaseMs, options.userId ?? null, options.limit ?? null],
    );
    return rows.map((row) => fromRow<T>(row)).sort((a, b) => a.seq - b.seq);
  }

  /** Removes applied writes; returns the seqs this call removed (others were replaced or done). */
  async complete(seqs: number[]): Promise<number[]> {
    if (seqs.length === 0) return [];
    const rows = await this.handle.query<{ seq: string }>("outbox.complete", `DELETE FROM ${this.table} WHERE seq = ANY($1::bigint[]) RETURNING seq`, [seqs]);
    return inOrder(seqs, rows);
  }

  /**
   * Removes applied writes and records the history of those this call removed, in one
   * transaction: of two replicas that applied the same write, only the one that removes the row
   * records its history.
   */
  async completeApplied(writes: Array<{ seq: number; history: readonly NewHistoryEntry[] }>): Promise<number[]> {
    if (writes.length === 0) return [];
    const seqs = writes.map((write) => write.seq);
    const noted = writes.flatMap((write) => write.history.map((entry) => ({ seq: write.seq, entry })));
    const entries = stampHistory(
      noted.map((note) => note.entry),
      this.handle.clock(),
    );
    // One statement (one transaction, one round trip): the history of a write goes in only if
    // this statement removed the write.
    const rows = await this.handle.query<{ seq: string }>(
      "outbox.completeApplied",
      `WITH gone AS (DELETE FROM ${this.table} WHERE seq = ANY($1::bigint[]) RETURNING seq),
      noted AS (
        INSERT INTO ${this.handle.table("history")} (id, memory_id, user_id, event, old_content, new_content, at, reason)
        SELECT n.id, n.memory_id, n.user_id, n.event, n.old_content, n.new_content, n.at, n.reason
        FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[])
          WITH ORDINALITY AS n(seq, id, memory_id, user_id, event, old_content, new_content, at, reason, ord)
        WHERE n.seq IN (SELECT seq FROM gone) ORDER BY n.ord
        RETURNING 1
      )
      SELECT seq FROM gone`,
      [
        seqs,
        noted.map((write) => write.seq),
        ...historyColumns(entries),
      ],
    );
    return inOrder(seqs, rows);
  }

  /** Records a failed attempt and releases the claim, so any replica may retry it. */
  async fail(seqs: number[], error: string): Promise<void> {
    if (seqs.length === 0) return;
    await this.handle.query(
      "outbox.fail",
      `UPDATE ${this.table} SET attempts = attempts + 1, last_error = $2, claimed_by = NULL, claimed_until = NULL WHERE seq = ANY($1::bigint[])`,
      [seqs, error.slice(0, MAX_ERROR_CHARS)],
    );
  }

  async size(userId?: string): Promise<number> {
    const rows = await this.handle.query<{ n: string }>(
      "outbox.size",
      `SELECT count(*) AS n FROM ${this.table} WHERE ($1::text IS NULL OR user_id = $1)`,
      [userId ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async find(userId: string, key: string): Promise<PendingWrite<T> | undefined> {
    const rows = await this.handle.query<OutboxRow>("outbox.find", `SELECT ${COLUMNS} FROM ${this.table} WHERE user_id = $1 AND key = $2`, [userId, key]);
    return rows[0] === undefined ? undefined : fromRow<T>(rows[0]);
  }

  async findMany(userId: string, keys: readonly string[]): Promise<Array<PendingWrite<T>>> {
    if (keys.length === 0) return [];
    const rows = await this.handle.query<OutboxRow>("outbox.findMany", `SELECT ${COLUMNS} FROM ${this.table} WHERE user_id = $1 AND key = ANY($2::text[])`, [userId, keys]);
    return rows.map((row) => fromRow<T>(row));
  }

  async deleteUser(userId: string): Promise<number> {
    return deleteUserRows(this.handle, "outbox.deleteUser", this.table, userId);
  }
}

/** The seqs of `rows`, in the order they were asked for. */
export function inOrder(asked: readonly number[], rows: ReadonlyArray<{ seq: string }>): number[] {
  const got = new Set(rows.map((row) => Number(row.seq)));
  return [...new Set(asked)].filter((seq) => got.has(seq));
}

export function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new EngramError("INVALID_OPTIONS", `limit must be a non-negative integer, got ${describeValue(limit)}`);
  }
}

export function checkClaim(owner: string, leaseMs: number): void {
  if (typeof owner !== "string" || owner.length === 0) {
    throw new EngramError("INVALID_OPTIONS", `owner must be a non-empty string, got ${describeValue(owner)}`);
  }
  if (!Number.isInteger(leaseMs) || leaseMs <= 0) {
    throw new EngramError("INVALID_OPTIONS", `leaseMs must be a positive integer, got ${describeValue(leaseMs)}`);
  }
}

export function serialise(payload: unknown, index: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    throw new EngramError("OUTBOX_ERROR", `Outbox item ${index} has a payload that is not JSON`, { cause: error, details: { index } });
  }
  if (json === undefined) throw new EngramError("OUTBOX_ERROR", `Outbox item ${index} has a payload that is not JSON`, { details: { index } });
  return json;
}

export function parsePayload<T>(text: string, what: string, seq: number): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new EngramError("OUTBOX_ERROR", `${what} ${seq} has a corrupt payload`, { cause: error, details: { seq } });
  }
}

function fromRow<T>(row: OutboxRow): PendingWrite<T> {
  const seq = Number(row.seq);
  return {
    seq,
    userId: row.user_id,
    key: row.key,
    payload: parsePayload<T>(row.payload, "Outbox row", seq),
    attempts: row.attempts,
    createdAt: Number(row.created_at),
    lastError: row.last_error,
    history: row.history,
  };
}
