import type { PoolConfig } from "pg";
import { describeValue } from "../../core/describe.js";
import { EngramError } from "../../core/errors.js";

/** Options of {@link PostgresState}. */
export interface PostgresStateOptions {
  /**
   * Where the state lives: a connection string (`postgres://user:password@host:5432/db`) or a
   * node-postgres `PoolConfig` (ssl, pool size, timeouts...). Every replica of an app points at the
   * same database and schema. Engram sets the pool's `allowExitOnIdle` to true unless you set it: idle
   * connections never keep a process alive that is done (without it, one that never calls `close()`
   * waited for pg's idle timeout, 10 s by default, before it could exit). It also gives every
   * connection a deadline unless you set one: `connectionTimeoutMillis` 30,000 and `query_timeout`
   * 60,000 (a statement not answered by then fails with `STATE_UNAVAILABLE`), and `keepAlive`: a
   * server that stops answering (frozen, or cut off by a failover without a reset) would otherwise
   * hold every call, and `close()`, for ever. Waits for a per-user lock have no deadline.
   */
  postgres: string | PoolConfig;
  /**
   * The schema that holds Engram's tables (created by `setup()` when missing). Two apps sharing a
   * database keep apart by using two schemas. Letters, digits and `_`, starting with a letter or `_`.
   * @default "engram"
   */
  schema?: string;
  /** Time of rows (history entries, queued writes, usage) in ms since the epoch. @default Date.now */
  clock?: () => number;
  /**
   * How long a write lease lives without being refreshed, in ms. A held lease is refreshed every
   * third of this (for at most a minute: a store write hung longer stops holding it), so a replica
   * that dies mid-write blocks another replica's `deleteAll` for at most this long.
   * @default 15_000
   */
  writeLeaseMs?: number;
  /**
   * Most connections held for per-user exclusive sections of one lock name at once (each section
   * holds one for its duration, besides the main pool's; more sections wait for one). Each name
   * ("facts", "drain", ...) has its own connections, since a section of one may take another's.
   * @default 20
   */
  lockConnections?: number;
  /**
   * How often `settled()` looks again for live write leases, in ms.
   * @default 25
   */
  pollMs?: number;
}

/** The options with defaults applied. */
export interface ResolvedPostgresOptions {
  pool: PoolConfig;
  schema: string;
  clock: () => number;
  writeLeaseMs: number;
  lockConnections: number;
  pollMs: number;
}

/** What Engram sets in the pool's config unless the app does (see `postgres` above). */
const DEADLINES: PoolConfig = { allowExitOnIdle: true, connectionTimeoutMillis: 30_000, query_timeout: 60_000, keepAlive: true };

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Checks and completes the options, without any I/O. The schema name goes into SQL text (it cannot
 * be a bind parameter), hence the strict pattern.
 * @throws EngramError `INVALID_OPTIONS`
 */
export function resolvePostgresOptions(options: PostgresStateOptions): ResolvedPostgresOptions {
  if (options === null || typeof options !== "object") {
    throw new EngramError("INVALID_OPTIONS", `PostgresState options must be an object, got ${describeValue(options)}.`);
  }
  const { postgres } = options;
  let pool: PoolConfig;
  if (typeof postgres === "string") {
    if (!/^postgres(ql)?:\/\//.test(postgres)) {
      throw new EngramError("INVALID_OPTIONS", "postgres must be a connection string starting with postgres:// (or postgresql://), or a pg PoolConfig.");
    }
    pool = { connectionString: postgres, ...DEADLINES };
  } else if (postgres !== null && typeof postgres === "object") {
    pool = { ...DEADLINES, ...postgres };
  } else {
    throw new EngramError("INVALID_OPTIONS", `postgres must be a connection string or a pg PoolConfig, got ${describeValue(postgres)}.`);
  }
  const schema = options.schema ?? "engram";
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema) || /^pg_/i.test(schema)) {
    throw new EngramError(
      "INVALID_OPTIONS",
      `schema must be letters, digits and _ (at most 63, not starting with a digit or pg_, which PostgreSQL reserves), got ${describeValue(schema)}.`,
    );
  }
  const clock = options.clock ?? Date.now;
  if (typeof clock !== "function") throw new EngramError("INVALID_OPTIONS", `clock must be a function, got ${describeValue(clock)}.`);
  const writeLeaseMs = positiveInteger("writeLeaseMs", options.writeLeaseMs, 15_000);
  const pollMs = positiveInteger("pollMs", options.pollMs, 25);
  const lockConnections = positiveInteger("lockConnections", options.lockConnections, 20);
  return { pool, schema, clock, writeLeaseMs, lockConnections, pollMs };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new EngramError("INVALID_OPTIONS", `${name} must be a positive integer, got ${describeValue(value)}.`);
  }
  return value;
}
