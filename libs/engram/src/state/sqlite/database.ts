/**
 * Opens the SQLite file of a data folder, the one way every part of the SQLite state does, and
 * runs statements under Engram's error contract. better-sqlite3 (a native addon) is loaded here
 * on the first open, never at import: `import "engram"` with PostgreSQL state loads no addon.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type Database from "better-sqlite3";
import { EngramError } from "../../core/errors.js";
import { freeBytes, fullDiskNote } from "../../core/full_disk.js";
import { missingAddonSentence } from "./native_addon.js";

/** A better-sqlite3 connection (the type only: the module loads on the first open). */
export type SqliteDatabase = Database.Database;

let driver: typeof Database | undefined;

/** better-sqlite3's constructor, loaded on first use. */
function loadDriver(): typeof Database {
  if (driver) return driver;
  try {
    const loaded = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
    // Its native addon loads with the first connection, not with the module: one in memory makes
    // a missing addon fail here, as the driver failing to load, and not as a file that cannot open.
    new loaded(":memory:").close();
    driver = loaded;
  } catch (error) {
    const addon = missingAddonSentence(error);
    throw new EngramError("OUTBOX_ERROR", `The SQLite state needs better-sqlite3, which failed to load: ${messageOf(error)}.${addon} Use PostgreSQL state ({ state: { postgres } }) where native modules cannot load.`, {
      cause: error,
    });
  }
  return driver;
}

/**
 * The local SQLite file that holds Engram's own bookkeeping (the history log, the outbox...).
 * Every module shares this one file, so one connection and one transaction can span them all.
 */
export const DATABASE_FILE_NAME = "engram.sqlite";

/** Path of the shared database inside a data folder: `<dataDir>/engram.sqlite`. */
export function databaseFile(dataDir: string): string {
  return join(dataDir, DATABASE_FILE_NAME);
}

/**
 * Opens (creating when missing) the SQLite database at `file`, the same way for every module:
 *
 * - the parent folder is created, so a fresh data folder just works;
 * - WAL journal mode, so readers never block the writer and a crash mid-write loses nothing
 *   that was committed;
 * - `synchronous = NORMAL`, which is durable against process crashes in WAL mode and much faster
 *   than FULL (only an OS crash / power loss can roll back the last commits);
 * - `busy_timeout = 5000`, so a second process (the CLI next to a running app) waits for the
 *   write lock instead of failing at once with SQLITE_BUSY.
 *
 * Tables are not created here: each module creates its own lazily on first use.
 * @throws EngramError `OUTBOX_ERROR` when the folder or the database cannot be opened.
 */
export function openDatabase(file: string): Database.Database {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (error) {
    throw new EngramError("OUTBOX_ERROR", `Cannot create the folder of ${file}: ${messageOf(error)}${fullDiskSentence(error, dirname(file))}`, {
      cause: error,
      details: { file },
    });
  }
  const Driver = loadDriver();
  let db: Database.Database | undefined;
  try {
    db = new Driver(file);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    useWal(db);
    db.pragma("synchronous = NORMAL");
    return db;
  } catch (error) {
    db?.close();
    throw new EngramError("OUTBOX_ERROR", `Cannot open the database ${file}: ${messageOf(error)}${fullDiskSentence(error, dirname(file))}`, {
      cause: error,
      details: { file },
    });
  }
}

/** How long a statement waits for another connection's lock (SQLite's busy timeout). */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Puts the database in WAL mode, which the file then keeps. Switching takes an exclusive lock, and
 * SQLite answers SQLITE_BUSY at once, without its busy handler, when another connection holds a
 * write lock meanwhile: two processes opening one new data folder at the same moment (the second
 * switching while the first creates its tables) failed with "database is locked". So the mode is
 * read first (a file already in WAL needs no switch), and a busy switch is tried again until the
 * busy timeout. The waits block like SQLite's own busy handler does: opening is synchronous.
 */
function useWal(db: Database.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const isWal = (mode: unknown): boolean => String(mode).toLowerCase() === "wal";
  for (let attempt = 0; ; attempt += 1) {
    try {
      // A switch SQLite could not make returns the mode it kept: tried again too.
      if (isWal(db.pragma("journal_mode", { simple: true })) || isWal(db.pragma("journal_mode = WAL", { simple: true }))) return;
    } catch (error) {
      if ((error as { code?: unknown })?.code !== "SQLITE_BUSY" || Date.now() >= deadline) throw error;
    }
    // Still in the rollback journal at the deadline: it works, with less concurrency; a later open switches it.
    if (Date.now() >= deadline) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(10 * 2 ** attempt, 200));
  }
}

/**
 * Runs `fn` against `db` with Engram's error contract, so callers branch on codes rather than on
 * driver messages: `CLOSED` when the connection was closed, and any driver failure wrapped as
 * `OUTBOX_ERROR` with the original error as `cause`. `EngramError`s thrown by `fn` pass through.
 * `what` names the operation in the message (e.g. "outbox.enqueue").
 */
export function runSql<R>(db: Database.Database, what: string, fn: () => R): R {
  if (!db.open) throw new EngramError("CLOSED", `${what}: the database is closed`);
  try {
    return fn();
  } catch (error) {
    if (error instanceof EngramError) throw error;
    const full = fullDiskSentence(error, dirname(db.name));
    throw new EngramError("OUTBOX_ERROR", `${what} failed: ${messageOf(error)}${full}`, {
      cause: error,
      details: full ? { file: db.name, freeBytes: freeBytes(dirname(db.name)) } : { file: db.name },
    });
  }
}

/**
 * For a failure of a full disk, a sentence that names the disk and the room left; else "". SQLite
 * says "database or disk is full" and no more (SQLITE_FULL), or "disk I/O error" when it cannot
 * make its -wal and -shm files on opening (SQLITE_IOERR_*); the file system says ENOSPC. The
 * sentence comes only when the disk has almost no room left.
 */
function fullDiskSentence(error: unknown, folder: string): string {
  const code = String((error as { code?: unknown })?.code ?? "");
  if (code !== "SQLITE_FULL" && code !== "ENOSPC" && !code.startsWith("SQLITE_IOERR")) return "";
  const note = fullDiskNote(folder);
  return note ? `.${note} Free some space, then try again.` : "";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What every part of the SQLite state shares: the one connection (opened on first use) and the clock. */
export interface SqliteHandle {
  /** The open connection; opens the file on first call. @throws EngramError `CLOSED` once closed. */
  db(): Database.Database;
  /** Time of rows (ms since epoch); leases use the real time instead. */
  clock: () => number;
}
