import type { PoolClient } from "pg";

/** One step of the schema; applied once, in order, and recorded in `engram_migrations`. */
export interface Migration {
  version: number;
  name: string;
  /** SQL run in the migration's transaction; `$schema` stands for the quoted schema name. */
  sql: string;
}

/**
 * The schema, as the steps that build it. A released step is never edited: a change is a new step
 * (old replicas keep working while new ones migrate, so steps only add). Times are ms since the
 * epoch (BIGINT); payloads are JSON text (kept byte for byte, as SQLite keeps them).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "history, outbox, jobs, write leases, meta, usage, checkpointer filings",
    sql: `
      CREATE TABLE $schema.history (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        memory_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
        old_content TEXT,
        new_content TEXT,
        at BIGINT NOT NULL,
        reason TEXT
      );
      CREATE INDEX history_user_memory ON $schema.history (user_id, memory_id);

      CREATE TABLE $schema.outbox (
        seq BIGSERIAL PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        claimed_by TEXT,
        claimed_until BIGINT,
        UNIQUE (user_id, key)
      );

      CREATE TABLE $schema.jobs (
        seq BIGSERIAL PRIMARY KEY,
        queue TEXT NOT NULL,
        user_id TEXT NOT NULL,
        grp TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        claimed_by TEXT,
        claimed_until BIGINT,
        UNIQUE (queue, user_id, key)
      );
      CREATE INDEX jobs_queue_user_group ON $schema.jobs (queue, user_id, grp);

      CREATE TABLE $schema.write_leases (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX write_leases_user ON $schema.write_leases (user_id);

      CREATE TABLE $schema.meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      );

      CREATE TABLE $schema.model_usage (
        seq BIGSERIAL PRIMARY KEY,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        total_tokens BIGINT NOT NULL,
        reported BOOLEAN NOT NULL,
        at BIGINT NOT NULL
      );
      CREATE INDEX model_usage_user ON $schema.model_usage (user_id, kind);

      CREATE TABLE $schema.checkpointer_filed (
        thread_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        message_key TEXT NOT NULL,
        PRIMARY KEY (thread_id, user_id, message_key)
      );
      CREATE INDEX checkpointer_filed_user ON $schema.checkpointer_filed (user_id);

      CREATE TABLE $schema.checkpointer_queue (
        seq BIGSERIAL PRIMARY KEY,
        thread_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        messages TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );
      CREATE INDEX checkpointer_queue_thread ON $schema.checkpointer_queue (thread_id);
      CREATE INDEX checkpointer_queue_user ON $schema.checkpointer_queue (user_id);
    `,
  },
  {
    version: 2,
    name: "state_imports: rows copied from SQLite state by engram migrate-state",
    // A queued write copied once and drained here must not come back when the copy is rerun:
    // each copied row of a queue is remembered by its source file and seq.
    sql: `
      CREATE TABLE $schema.state_imports (
        source TEXT NOT NULL,
        part TEXT NOT NULL,
        source_seq BIGINT NOT NULL,
        PRIMARY KEY (source, part, source_seq)
      );
    `,
  },
  {
    version: 3,
    name: "store_revisions: each user's store revision, from one sequence (memory/gated_store.ts)",
    sql: `
      CREATE SEQUENCE $schema.store_revision_seq;
      CREATE TABLE $schema.store_revisions (
        user_id TEXT PRIMARY KEY,
        revision BIGINT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: "outbox.history: the history entries a queued write records, with those of the writes it replaced",
    // Null on rows queued before it (and by older replicas during a rolling deploy): such a row
    // records its payload's own entry, as before.
    sql: `ALTER TABLE $schema.outbox ADD COLUMN history JSONB;`,
  },
];

/** The newest schema version this code knows. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the schema up to {@link LATEST_VERSION}. Replicas that start together each call this:
 * the first takes a transaction-level advisory lock on the schema's name and migrates, the others
 * wait on the lock and then find nothing left to do. A schema at the latest version (or newer: a
 * replica of the next release migrated it during a rolling deploy) is left alone without locking.
 */
export async function migrate(client: PoolClient, schema: string): Promise<void> {
  const quoted = `"${schema}"`;
  if ((await appliedVersion(client, schema)) >= LATEST_VERSION) return;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`engram:migrate:${schema}`]);
    // Checked before CREATE: a role without CREATE on the database may still use an existing schema.
    const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.engram_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${quoted}.engram_migrations`);
    const done = new Set(rows.map((row) => row.version));
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql.replaceAll("$schema", quoted));
      await client.query(`INSERT INTO ${quoted}.engram_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** The highest version recorded in the schema, 0 when it has no migrations table yet. */
async function appliedVersion(client: PoolClient, schema: string): Promise<number> {
  const table = await client.query<{ name: string | null }>("SELECT to_regclass($1) AS name", [`"${schema}".engram_migrations`]);
  if (table.rows[0]?.name == null) return 0;
  const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM "${schema}".engram_migrations`);
  return rows[0]?.version ?? 0;
}
