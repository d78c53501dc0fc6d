import type { Socket } from "node:net";
import type { Pool, PoolClient, QueryResultRow } from "pg";
import { EngramError } from "../../core/errors.js";
import { endWithin, quietPool } from "./connections.js";
import { migrate } from "./migrations.js";
import type { ResolvedPostgresOptions } from "./options.js";

type PgModule = (typeof import("pg"))["default"];

/**
 * The server's time in ms since the epoch, as SQL. Leases and claims are about replicas being
 * alive, on machines whose clocks may disagree: they are timed by the one clock every replica
 * shares, the database server's (and never by a Memory's replaceable clock).
 */
export const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** SQLSTATEs worth one more try of the whole transaction: a deadlock or a serialization failure. */
const RETRYABLE = new Set(["40P01", "40001"]);
const MAX_ATTEMPTS = 4;

/** Error codes of a connection that failed (node's, and PostgreSQL's class 08 and shutdowns). */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "EPIPE", "57P01", "57P02", "57P03"]);

/**
 * What every part of the PostgreSQL state shares: the pool (created, and the schema migrated, on
 * first use, never in a constructor), the schema's table names, the clock and error wrapping.
 * node-postgres is imported only then, so importing Engram loads no driver it does not use.
 */
export class PgHandle {
  private pgModule: Promise<PgModule> | undefined;

  private pool: Pool | undefined;

  private readying: Promise<Pool> | undefined;

  private closed = false;

  /**
   * The pools of lock connections (per-user exclusive sections), one per lock name, each created
   * on first use: a section may take another name's lock while it holds its own (a fact run
   * drains its writes: "facts", then "drain"), and with one shared pool, sections of the outer
   * name holding every connection would wait for ever for one to take the inner lock.
   */
  private readonly locks = new Map<string, Pool>();

  /** Lock connections lent out: closed by `close()`, which ends the locks they hold. */
  private readonly lent = new Set<PoolClient>();

  /** The sockets of this handle's connections not closed yet (see `close()`). */
  private readonly sockets = new Set<Socket>();

  /** Work to stop at `close()` (lease refresh timers). */
  private readonly closeHooks = new Set<() => void>();

  constructor(readonly options: ResolvedPostgresOptions) {}

  get clock(): () => number {
    return this.options.clock;
  }

  get schema(): string {
    return this.options.schema;
  }

  /** `"schema"."name"`: the schema is checked by the options, so quoting it is enough. */
  table(name: string): string {
    return `"${this.options.schema}"."${name}"`;
  }

  /** Creates the pool and migrates the schema, once; a failed attempt is retried by the next call. */
  ready(): Promise<Pool> {
    if (this.closed) return Promise.reject(closedError("setup"));
    this.readying ??= this.open().catch((error: unknown) => {
      this.readying = undefined;
      throw this.wrap("setup", error);
    });
    return this.readying;
  }

  /**
   * Runs one statement on any pooled connection and returns its rows. A statement is its own
   * transaction: one that failed on a deadlock or serialization failure changed nothing and is
   * run again.
   */
  async query<R extends QueryResultRow>(what: string, text: string, values: unknown[] = []): Promise<R[]> {
    const pool = await this.ready();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await pool.query<R>(text, values)).rows;
      } catch (error) {
        if (attempt < MAX_ATTEMPTS && RETRYABLE.has(sqlState(error) ?? "")) continue;
        throw this.wrap(what, error);
      }
    }
  }

  /**
   * Runs `fn` in a transaction on one connection: all or nothing. A deadlock or serialization
   * failure (two replicas touching the same rows in another order) reruns the whole of `fn`, so it
   * must do nothing but queries on `client`.
   */
  async tx<R>(what: string, fn: (client: PoolClient) => Promise<R>): Promise<R> {
    const pool = await this.ready();
    for (let attempt = 1; ; attempt += 1) {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw this.wrap(what, error);
      }
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const result = await fn(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => {
          // A connection that cannot roll back is dropped rather than returned to the pool.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        if (attempt < MAX_ATTEMPTS && RETRYABLE.has(sqlState(error) ?? "")) continue;
        throw this.wrap(what, error);
      } finally {
        client.release(broken);
      }
    }
  }

  /**
   * A connection outside the main pool, for a session-level lock held while other work uses the
   * main pool (a connection of that pool could starve the work it waits for). Lock connections
   * have a pool of their own, so a section does not pay for a new connection; give it back with
   * {@link releaseLockClient}, saying whether its session is clean (no lock left on it).
   * @param name the lock's name: each name has its own pool (see `locks`).
   */
  async lockClient(what: string, name = ""): Promise<PoolClient> {
    await this.ready();
    const pg = await this.driver();
    if (this.closed) throw closedError(what);
    let locks = this.locks.get(name);
    if (!locks) {
      // No pool-wide statement deadline on lock sessions: waiting for a lock another replica holds
      // is no outage (leases.ts gives the lock and unlock statements deadlines of their own).
      locks = quietPool(new pg.Pool({ ...this.options.pool, query_timeout: undefined, max: this.options.lockConnections }), this.sockets);
      this.locks.set(name, locks);
    }
    let client: PoolClient;
    try {
      client = await locks.connect();
    } catch (error) {
      throw this.wrap(what, error);
    }
    this.lent.add(client);
    return client;
  }

  /** Returns a lock connection: reused when `clean`, else closed (which ends any lock it holds). */
  releaseLockClient(client: PoolClient, clean: boolean): void {
    if (!this.lent.delete(client)) return;
    client.release(clean ? undefined : new Error("lock session not clean"));
  }

  /** Registers work to stop at close; returns its removal. */
  onClose(hook: () => void): () => void {
    this.closeHooks.add(hook);
    return () => this.closeHooks.delete(hook);
  }

  isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const hook of [...this.closeHooks]) hook();
    this.closeHooks.clear();
    for (const client of [...this.lent]) this.releaseLockClient(client, false);
    const locks = [...this.locks.values()];
    this.locks.clear();
    const pool = this.pool ?? (await this.readying?.catch(() => undefined));
    this.pool = undefined;
    // Bounded: a server that no longer answers never closes the connections (connections.ts).
    await endWithin(Promise.all([...locks, ...(pool ? [pool] : [])].map((each) => each.end().catch(() => {}))), this.sockets);
  }

  /** A driver or SQL failure as an EngramError naming what failed; EngramErrors pass through. */
  wrap(what: string, error: unknown): EngramError {
    if (error instanceof EngramError) return error;
    if (this.closed) return closedError(what, error);
    const code = sqlState(error) ?? (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : String(error);
    const details = { backend: "postgres", schema: this.options.schema, ...(typeof code === "string" ? { code } : {}) };
    if (unreachable(error)) {
      return new EngramError("STATE_UNAVAILABLE", `${what}: PostgreSQL cannot be reached: ${message}`, { cause: error, details });
    }
    return new EngramError("OUTBOX_ERROR", `${what} failed: ${message}`, { cause: error, details });
  }

  private driver(): Promise<PgModule> {
    this.pgModule ??= import("pg").then((module) => module.default);
    return this.pgModule;
  }

  private async open(): Promise<Pool> {
    const pg = await this.driver();
    if (this.closed) throw closedError("setup");
    if (!this.pool) {
      this.pool = quietPool(new pg.Pool(this.options.pool), this.sockets);
    }
    const pool = this.pool;
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await migrate(client, this.options.schema);
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
    return pool;
  }
}


/**
 * Whether a driver error says the server could not be reached or the connection broke (refused,
 * reset, shut down, restarting; a query on a client whose connection already broke), as opposed
 * to a statement the server refused.
 */
export function unreachable(error: unknown): boolean {
  const code = sqlState(error) ?? (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    (typeof code === "string" && (UNREACHABLE.has(code) || code.startsWith("08"))) ||
    /Connection terminated|timeout exceeded when trying to connect|is not queryable|Query read timeout/i.test(message)
  );
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function closedError(what: string, cause?: unknown): EngramError {
  return new EngramError("CLOSED", `${what}: the PostgreSQL state is closed`, cause === undefined ? {} : { cause });
}
