import { existsSync, realpathSync, statSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import type { PoolClient } from "pg";
import { describeValue } from "../../core/describe.js";
import { EngramError } from "../../core/errors.js";
import { databaseFile, openDatabase, type SqliteDatabase } from "../sqlite/database.js";
import { ensureOutboxTable } from "../sqlite/outbox.js";
import { PgHandle } from "./handle.js";
import { resolvePostgresOptions, type PostgresStateOptions } from "./options.js";

/** The parts of the state that are copied, in the order they are. */
export const COPIED_PARTS = ["meta", "history", "outbox", "jobs", "usage", "filed", "filings"] as const;
export type CopiedPart = (typeof COPIED_PARTS)[number];

/** How far a copy is: rows looked at so far, of all parts, against the total. */
export interface CopyProgress {
  done: number;
  total: number;
  part: CopiedPart;
}

/** Options of {@link copySqliteState}. */
export interface CopySqliteStateOptions {
  /** The data folder (its `engram.sqlite`) or the `.sqlite` file to copy from. Stop the apps using it first. */
  from: string;
  /** The PostgreSQL state to copy into (created and migrated when missing). */
  to: PostgresStateOptions;
  /** Rows read and written per statement. @default 500 */
  batchSize?: number;
  /** Called after each batch. */
  onProgress?: (progress: CopyProgress) => void;
}

/** What a copy did, per part. */
export interface CopyResult {
  /** Rows written into PostgreSQL. */
  copied: Record<CopiedPart, number>;
  /** Rows already there (an earlier run copied them, or PostgreSQL holds a newer row of the key). */
  skipped: Record<CopiedPart, number>;
  /** Metadata PostgreSQL already held with another value (kept): e.g. another embedding model. */
  metaConflicts: Array<{ key: string; sqlite: string; postgres: string }>;
}

/** One source table: how to page through it and how to write a page. */
interface PartPlan {
  part: CopiedPart;
  table: string;
  /** Columns read, the first being the paging key (`seq`, or the filing log's primary key). */
  select: string;
  order: string;
  write(client: PoolClient, rows: Row[]): Promise<number>;
}

type Row = Record<string, unknown>;

/**
 * Copies a data folder's SQLite state (history, queued writes, jobs, metadata, usage and the
 * checkpointer's filing log) into PostgreSQL, for a move from one process to replicas. Rerunning
 * it is safe: history and taken filing keys are copied by their own identity, and every queued row
 * (write, job, usage call, filing) is remembered by its source file and seq in `state_imports`,
 * so a row copied once is never copied again, even after PostgreSQL drained it. Write leases and
 * claims are not copied: they belong to the processes that stopped.
 * @throws EngramError `INVALID_OPTIONS` when `from` holds no SQLite state or an option is wrong.
 */
export async function copySqliteState(options: CopySqliteStateOptions): Promise<CopyResult> {
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new EngramError("INVALID_OPTIONS", `batchSize must be a positive integer, got ${describeValue(batchSize)}.`);
  }
  const file = sourceFile(options.from);
  const handle = new PgHandle(resolvePostgresOptions(options.to));
  const result: CopyResult = { copied: zeros(), skipped: zeros(), metaConflicts: [] };
  const sources: Array<{ db: SqliteDatabase; present: PartPlan[] }> = [];
  try {
    const db = openDatabase(file);
    sources.push({ db, present: [] });
    holdAlone(db, file);
    const source = realpathSync(file);
    const own = [source];
    // A folder last opened by an older version lacks the outbox's newer columns: added as any open adds them.
    if (tableExists(db, "outbox")) ensureOutboxTable(db);
    sources[0]!.present = planParts(handle, source, result).filter((plan) => tableExists(db, plan.table));
    const legacy = legacyLogFile(file);
    if (legacy) {
      const legacyDb = openDatabase(legacy);
      sources.push({ db: legacyDb, present: [] });
      holdAlone(legacyDb, legacy);
      own.push(realpathSync(legacy));
      // Its own source name: its queue's seqs are not the state file's.
      sources[1]!.present = planParts(handle, realpathSync(legacy), result).filter(
        (plan) => (plan.part === "filed" || plan.part === "filings") && tableExists(legacyDb, plan.table),
      );
    }
    const total = sources.reduce((sum, { db, present }) => sum + present.reduce((n, plan) => n + count(db, plan.table), 0), 0);
    await handle.ready();
    await handle.tx("migrate-state.source", (client) => claimTarget(client, handle, own));
    let done = 0;
    let last: CopiedPart = "meta";
    for (const { db, present } of sources) {
      for (const plan of present) {
        last = plan.part;
        for (const rows of pages(db, plan, batchSize)) {
          const written = await handle.tx(`migrate-state.${plan.part}`, (client) => plan.write(client, rows));
          result.copied[plan.part] += written;
          result.skipped[plan.part] += rows.length - written;
          done += rows.length;
          options.onProgress?.({ done, total, part: plan.part });
        }
      }
    }
    options.onProgress?.({ done, total, part: last });
    return result;
  } finally {
    for (const { db } of sources) db.close();
    await handle.close();
  }
}

/**
 * Records this folder as the source of the schema's copies, or refuses a schema another folder
 * (another file: `sources` are this folder's files) was copied into. Copied in as well, the two
 * folders' users were one: the same user id of two apps saw each other's history, a thread id of
 * both belonged to both owners (each could claim and read the other's checkpoints), and
 * `deleteThread` erased both. A source is known by its file's path: this folder copied again
 * from another path is refused too, which is what it must be: its queued writes, not known as
 * copied, would have been copied again, and the ones the replicas drained since applied twice.
 * The table lock makes two copies at once into one schema take turns.
 * @throws EngramError `INVALID_OPTIONS` before anything is copied.
 */
async function claimTarget(client: PoolClient, handle: PgHandle, sources: string[]): Promise<void> {
  const imports = handle.table("state_imports");
  await client.query(`LOCK TABLE ${imports} IN SHARE ROW EXCLUSIVE MODE`);
  const { rows } = await client.query<{ source: string }>(`SELECT source FROM ${imports} WHERE NOT (source = ANY($1::text[])) LIMIT 1`, [sources]);
  if (rows.length > 0) {
    throw new EngramError(
      "INVALID_OPTIONS",
      `This schema holds the state copied from ${rows[0]!.source}, another file than ${sources[0]}: copying this folder into it would mix the two folders' users and threads. ` +
        "Copy into another schema; if it is the same folder at another path, run the copy from the path it was copied from. Nothing was copied.",
      { details: { source: sources[0], copiedFrom: rows[0]!.source } },
    );
  }
  await client.query(`INSERT INTO ${imports} (source, part, source_seq) VALUES ($1, 'folder', 0) ON CONFLICT DO NOTHING`, [sources[0]]);
}

/**
 * Takes the file for this copy alone (SQLite's exclusive locking mode: the lock is held until the
 * connection closes), or refuses while another process has it open. A copy of a folder in use
 * lost what the app wrote into a part already copied, and worse: a queued write copied and then
 * drained by the app was drained again by the replicas, over what the user did since (a memory
 * deleted after it came back, an update was undone). An app that opens the folder during the copy
 * waits for the lock (SQLite's busy timeout) and then fails with `OUTBOX_ERROR`: told, not lost.
 * @throws EngramError `OUTBOX_ERROR` when another connection holds the file (even idle: a
 * connection in WAL mode keeps its shared-memory lock while open), before anything is copied.
 */
function holdAlone(db: SqliteDatabase, file: string): void {
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("COMMIT");
  } catch (error) {
    if ((error as { code?: unknown })?.code !== "SQLITE_BUSY") {
      throw new EngramError("OUTBOX_ERROR", `Cannot take ${file} for the copy: ${error instanceof Error ? error.message : String(error)}`, { cause: error, details: { file } });
    }
    throw new EngramError(
      "OUTBOX_ERROR",
      `${file} is open in another process (the app, engram ui, engram mcp...): stop the processes using the data folder, then run the copy again. Nothing was copied.`,
      { cause: error, details: { file } },
    );
  }
}

/**
 * The checkpointer's file beside the state (`<folder>/checkpoints.sqlite`, the default
 * `databasePath`) when it still holds the filing log older versions kept there: who owns each
 * thread, the messages already filed, the filings waiting. An app on this version moves it into
 * SQLite state when it opens the folder (adapters/checkpointer/legacy_log.ts); a folder copied
 * before that happened had it left behind, and replicas on the copy found every thread unowned
 * (any user's first run claimed one and read its checkpoints) and the waiting filings lost.
 */
function legacyLogFile(stateFile: string): string | undefined {
  const file = join(dirname(stateFile), LEGACY_LOG_FILE_NAME);
  if (!existsSync(file) || realpathSync(file) === realpathSync(stateFile)) return undefined;
  return file;
}

/** The checkpointer's default file in a data folder (adapters/checkpointer CHECKPOINTS_FILE_NAME). */
const LEGACY_LOG_FILE_NAME = "checkpoints.sqlite";

function sourceFile(from: string): string {
  if (typeof from !== "string" || from.trim() === "") {
    throw new EngramError("INVALID_OPTIONS", `from must be a data folder or a .sqlite file, got ${describeValue(from)}.`);
  }
  const ext = extname(from).toLowerCase();
  const file = (ext === ".sqlite" || ext === ".db") && !isDirectory(from) ? from : databaseFile(from);
  if (!existsSync(file)) throw new EngramError("INVALID_OPTIONS", `There is no SQLite state to copy at ${file}.`, { details: { file } });
  return file;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Reads a table page by page, in key order (keyset paging: no offset rescans). */
function* pages(db: SqliteDatabase, plan: PartPlan, batchSize: number): Generator<Row[]> {
  const keyed = plan.order === "seq";
  let after: unknown[] = keyed ? [-1] : ["", "", ""];
  const where = keyed ? "seq > ?" : "(thread_id, user_id, message_key) > (?, ?, ?)";
  const statement = db.prepare(`SELECT ${plan.select} FROM ${plan.table} WHERE ${where} ORDER BY ${plan.order} LIMIT ?`);
  for (;;) {
    const rows = statement.all(...after, batchSize) as Row[];
    if (rows.length === 0) return;
    yield rows;
    const last = rows[rows.length - 1]!;
    after = keyed ? [last.seq] : [last.thread_id, last.user_id, last.message_key];
    if (rows.length < batchSize) return;
  }
}

function tableExists(db: SqliteDatabase, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

function count(db: SqliteDatabase, table: string): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function zeros(): Record<CopiedPart, number> {
  return { meta: 0, history: 0, outbox: 0, jobs: 0, usage: 0, filed: 0, filings: 0 };
}

const column = <T>(rows: Row[], name: string, map: (value: unknown) => T = (value) => value as T): T[] => rows.map((row) => map(row[name]));

/**
 * `INSERT ... SELECT` of the rows of a page not yet imported from this source: the import marks
 * and the rows go in one statement, so a page is copied whole or not at all.
 */
async function insertOnce(client: PoolClient, handle: PgHandle, source: string, part: CopiedPart, seqs: unknown[], insert: string, values: unknown[]): Promise<number> {
  const { rows } = await client.query(
    `WITH fresh AS (
       INSERT INTO ${handle.table("state_imports")} (source, part, source_seq)
       SELECT $1, $2, s FROM unnest($3::bigint[]) AS s ON CONFLICT DO NOTHING RETURNING source_seq
     )
     ${insert.replace("$FRESH", "(SELECT source_seq FROM fresh)")}`,
    [source, part, seqs, ...values],
  );
  return rows.length;
}

function planParts(handle: PgHandle, source: string, result: CopyResult): PartPlan[] {
  const t = (name: string) => handle.table(name);
  return [
    {
      part: "meta",
      table: "engram_meta",
      select: "rowid AS seq, key, value, updated_at",
      order: "seq",
      async write(client, rows) {
        const { rows: inserted } = await client.query<{ key: string }>(
          `INSERT INTO ${t("meta")} (key, value, updated_at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
           ON CONFLICT (key) DO NOTHING RETURNING key`,
          [column(rows, "key"), column(rows, "value"), column(rows, "updated_at")],
        );
        const fresh = new Set(inserted.map((row) => row.key));
        const kept = rows.filter((row) => !fresh.has(String(row.key)));
        if (kept.length > 0) {
          const { rows: current } = await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${t("meta")} WHERE key = ANY($1::text[])`, [
            column(kept, "key"),
          ]);
          for (const row of kept) {
            const there = current.find((c) => c.key === row.key);
            if (there && there.value !== row.value) result.metaConflicts.push({ key: String(row.key), sqlite: String(row.value), postgres: there.value });
          }
        }
        return inserted.length;
      },
    },
    {
      part: "history",
      table: "history",
      select: "seq, id, memory_id, user_id, event, old_content, new_content, at, reason",
      order: "seq",
      async write(client, rows) {
        const { rows: inserted } = await client.query(
          `INSERT INTO ${t("history")} (id, memory_id, user_id, event, old_content, new_content, at, reason)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
           ON CONFLICT (id) DO NOTHING RETURNING seq`,
          ["id", "memory_id", "user_id", "event", "old_content", "new_content", "at", "reason"].map((name) => column(rows, name)),
        );
        return inserted.length;
      },
    },
    copiedOnce(handle, source, {
      part: "outbox",
      table: "outbox",
      target: "outbox",
      columns: [["user_id", "text"], ["key", "text"], ["payload", "text"], ["created_at", "bigint"], ["attempts", "int"], ["last_error", "text"], ["history", "jsonb"]],
      conflict: "(user_id, key)",
    }),
    copiedOnce(handle, source, {
      part: "jobs",
      table: "jobs",
      target: "jobs",
      columns: [
        ["queue", "text"],
        ["user_id", "text"],
        ["grp", "text"],
        ["key", "text"],
        ["payload", "text"],
        ["created_at", "bigint"],
        ["attempts", "int"],
        ["last_error", "text"],
      ],
      conflict: "(queue, user_id, key)",
    }),
    copiedOnce(handle, source, {
      part: "usage",
      table: "model_usage",
      target: "model_usage",
      columns: [
        ["user_id", "text"],
        ["kind", "text"],
        ["input_tokens", "bigint"],
        ["output_tokens", "bigint"],
        ["total_tokens", "bigint"],
        // SQLite keeps booleans as 0 and 1.
        ["reported", "boolean", (value) => Number(value) !== 0],
        ["at", "bigint"],
      ],
    }),
    {
      part: "filed",
      table: "engram_checkpointer_filed",
      select: "thread_id, user_id, message_key",
      order: "thread_id, user_id, message_key",
      async write(client, rows) {
        const { rows: inserted } = await client.query(
          `INSERT INTO ${t("checkpointer_filed")} (thread_id, user_id, message_key) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
           ON CONFLICT DO NOTHING RETURNING 1`,
          [column(rows, "thread_id"), column(rows, "user_id"), column(rows, "message_key")],
        );
        return inserted.length;
      },
    },
    copiedOnce(handle, source, {
      part: "filings",
      table: "engram_checkpointer_queue",
      target: "checkpointer_queue",
      columns: [["thread_id", "text"], ["user_id", "text"], ["messages", "text"], ["created_at", "bigint"], ["attempts", "int"], ["last_error", "text"]],
    }),
  ];
}

/**
 * A queue table copied row by row once per source seq (its own seq is new in PostgreSQL): the
 * columns after `seq`, each with its PostgreSQL type, named alike in both databases.
 */
interface QueueTable {
  part: CopiedPart;
  /** The SQLite table. */
  table: string;
  /** The PostgreSQL table, before the schema's prefix. */
  target: string;
  columns: Array<[name: string, type: string, convert?: (value: unknown) => unknown]>;
  /** A unique key a newer row in PostgreSQL may already hold (that row is kept). */
  conflict?: string;
}

/**
 * The plan of a {@link QueueTable}: paged by seq, each page written by {@link insertOnce} with an
 * `INSERT ... SELECT` over the page's columns unnested (`$3` the seqs, then one array per column),
 * in seq order, of the rows not imported before.
 */
function copiedOnce(handle: PgHandle, source: string, spec: QueueTable): PartPlan {
  const names = spec.columns.map(([name]) => name);
  const arrays = ["$3::bigint[]", ...spec.columns.map(([, type], i) => `$${i + 4}::${type}[]`)];
  const insert = `INSERT INTO ${handle.table(spec.target)} (${names.join(", ")})
     SELECT ${names.map((name) => `r.${name}`).join(", ")}
     FROM unnest(${arrays.join(", ")}) AS r(seq, ${names.join(", ")})
     WHERE r.seq IN $FRESH ORDER BY r.seq
     ${spec.conflict ? `ON CONFLICT ${spec.conflict} DO NOTHING ` : ""}RETURNING seq`;
  return {
    part: spec.part,
    table: spec.table,
    select: `seq, ${names.join(", ")}`,
    order: "seq",
    write: (client, rows) =>
      insertOnce(
        client,
        handle,
        source,
        spec.part,
        column(rows, "seq"),
        insert,
        spec.columns.map(([name, , convert]) => column(rows, name, convert)),
      ),
  };
}
