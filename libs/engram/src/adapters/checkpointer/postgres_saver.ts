import type { RunnableConfig } from "@langchain/core/runnables";
import type { BaseCheckpointSaver, ChannelVersions, Checkpoint, CheckpointListOptions, CheckpointMetadata, CheckpointTuple, PendingWrite } from "@langchain/langgraph-checkpoint";
import type { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type { Socket } from "node:net";
import type { PoolConfig } from "pg";
import { EngramError } from "../../core/errors.js";
import { endWithin, quietPool } from "../../state/postgres/connections.js";
import { unreachable } from "../../state/postgres/handle.js";

/** A `PostgresSaver` of `@langchain/langgraph-checkpoint-postgres`, as the factory returns it. */
export type PostgresCheckpointSaver = BaseCheckpointSaver & {
  /** Creates or migrates the saver's tables (the factory has done it once). */
  setup(): Promise<void>;
  /** Closes the saver's connection pool. `EngramCheckpointer.close()` does not: call it last. */
  end(): Promise<void>;
};

/** Options of {@link createPostgresSaver}. */
export interface PostgresSaverOptions {
  /**
   * The PostgreSQL schema of the checkpoint tables (created if missing).
   * @default "public"
   */
  schema?: string;
  /**
   * Most connections the saver's pool opens. Each connection has deadlines: 30 s to connect,
   * 60 s a statement (then `STORE_UNAVAILABLE`), and `end()` waits at most 5 s for the database
   * to close them.
   * @default 10 (node-postgres' default)
   */
  maxConnections?: number;
}

/** A schema name PostgresSaver can quote safely into its SQL. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * A LangGraph `PostgresSaver` on `connectionString`, its tables created or migrated, ready to pass
 * as `new EngramCheckpointer({ memory, saver })`. The package `@langchain/langgraph-checkpoint-postgres`
 * is loaded here, on first call, so an app that never stores checkpoints in PostgreSQL does not need it.
 * Several processes may call this at once on one database: the migration runs under an advisory
 * lock (PostgresSaver's own `setup()` is not safe when two processes race).
 * @throws EngramError `INVALID_OPTIONS` for an empty connection string, a bad schema name or a
 * missing package; `STORE_UNAVAILABLE` when the database cannot be reached or migrated.
 */
export async function createPostgresSaver(connectionString: string, options: PostgresSaverOptions = {}): Promise<PostgresCheckpointSaver> {
  if (typeof connectionString !== "string" || connectionString.trim() === "") {
    throw new EngramError("INVALID_OPTIONS", "createPostgresSaver needs a connection string (postgres://user@host:port/database).");
  }
  const schema = options.schema ?? "public";
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
    throw new EngramError("INVALID_OPTIONS", `schema must be a plain PostgreSQL identifier (letters, digits, _), got ${JSON.stringify(schema)}.`);
  }
  const max = options.maxConnections;
  if (max !== undefined && (!Number.isInteger(max) || max < 2)) {
    // One connection holds the set-up lock while PostgresSaver migrates on another.
    throw new EngramError("INVALID_OPTIONS", `maxConnections must be an integer of at least 2, got ${String(max)}.`);
  }
  const [{ PostgresSaver }, pg] = await Promise.all([loadPostgresSaver(), import("pg")]);
  const sockets = new Set<Socket>();
  const pool = quietPool(new pg.default.Pool({ connectionString, ...DEADLINES, ...(max === undefined ? {} : { max }) }), sockets);
  const saver = new (outageTyped(PostgresSaver, sockets))(pool, undefined, { schema });
  try {
    const client = await pool.connect();
    try {
      // Replicas starting together: one migrates, the others wait and then find nothing to do.
      await client.query("SELECT pg_advisory_lock(hashtext($1))", [`engram:checkpoints:${schema}`]);
      try {
        await saver.setup();
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`engram:checkpoints:${schema}`]);
      }
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new EngramError("STORE_UNAVAILABLE", `Could not set up the PostgreSQL checkpoint tables: ${(error as Error)?.message ?? error}`, { cause: error });
  }
  return saver;
}

/**
 * Deadlines of the saver's connections, as the state's (state/postgres/options.ts): a database
 * that stops answering without closing anything (frozen, a host gone in a failover) fails a
 * turn's checkpoint call with `STORE_UNAVAILABLE` instead of holding it, and the run, for ever.
 */
const DEADLINES: PoolConfig = { connectionTimeoutMillis: 30_000, query_timeout: 60_000, keepAlive: true };

/** A driver error that says PostgreSQL cannot be reached, as `STORE_UNAVAILABLE`; others as they are. */
function typed(what: string, error: unknown): unknown {
  if (error instanceof EngramError || !unreachable(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return new EngramError("STORE_UNAVAILABLE", `${what}: the PostgreSQL checkpoint store cannot be reached: ${message}`, {
    cause: error,
    details: { backend: "postgres", ...(typeof code === "string" ? { code } : {}) },
  });
}

/**
 * PostgresSaver whose calls fail with an `EngramError` (`STORE_UNAVAILABLE`) when the database
 * cannot be reached, as every other Engram part does, instead of the driver's error (for a `put`
 * cut off by a restart, the error of its ROLLBACK on the dead connection: "Client has encountered
 * a connection error and is not queryable"). A put that fails so changed nothing, or landed whole
 * (its COMMIT reached the server, not the answer): it is one transaction, and a checkpoint's id
 * is its key, so the graph's next run finds it once or not at all.
 */
function outageTyped(Base: typeof PostgresSaver, sockets: Set<Socket>): typeof PostgresSaver {
  return class extends Base {
    /** The pool's end, bounded: a database that no longer answers never closes the connections. */
    override async end(): Promise<void> {
      await endWithin(super.end(), sockets);
    }

    override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
      return super.getTuple(config).catch((error: unknown) => Promise.reject(typed("checkpoints.getTuple", error)));
    }

    override async *list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
      try {
        yield* super.list(config, options);
      } catch (error) {
        throw typed("checkpoints.list", error);
      }
    }

    override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
      return super.put(config, checkpoint, metadata, newVersions).catch((error: unknown) => Promise.reject(typed("checkpoints.put", error)));
    }

    override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
      return super.putWrites(config, writes, taskId).catch((error: unknown) => Promise.reject(typed("checkpoints.putWrites", error)));
    }

    override async deleteThread(threadId: string): Promise<void> {
      return super.deleteThread(threadId).catch((error: unknown) => Promise.reject(typed("checkpoints.deleteThread", error)));
    }
  };
}

async function loadPostgresSaver(): Promise<typeof import("@langchain/langgraph-checkpoint-postgres")> {
  try {
    return await import("@langchain/langgraph-checkpoint-postgres");
  } catch (error) {
    throw new EngramError(
      "INVALID_OPTIONS",
      "createPostgresSaver needs the package @langchain/langgraph-checkpoint-postgres: add it to your app's dependencies.",
      { cause: error },
    );
  }
}
