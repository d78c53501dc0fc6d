import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { EngramError } from "../../core/errors.js";

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
   * Most connections the saver's pool opens.
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
  const pool = new pg.default.Pool({ connectionString, ...(max === undefined ? {} : { max }) });
  const saver = new PostgresSaver(pool, undefined, { schema });
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
