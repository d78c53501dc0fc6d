/**
 * Checkpoints that the default SqliteSaver stored, before EngramCheckpointer handed it a numeric
 * `thread_id` as its string, under the number's REAL text: better-sqlite3 binds the number 1 as
 * REAL, and the TEXT column kept "1.0". Engram claimed and filed that thread as "1" all along, so
 * in a folder written then, `deleteThread("1")` erased alice's memories and claim and left her
 * checkpoints under "1.0", which nobody owned: a run naming thread_id "1.0" claimed and read
 * them. And her own next run on thread_id 1 (read as "1" now) started from an empty thread.
 *
 * They are moved, on the checkpointer's first use of its file, to the id Engram files them under.
 */
import type Database from "better-sqlite3";
import { runSql } from "../../state/sqlite/database.js";

const TABLES = ["checkpoints", "writes"] as const;

/**
 * Moves the checkpoints and writes stored under an integer's REAL text ("1.0", "-3.0") to its
 * string ("1", "-3"), unless a user claimed the REAL text
 * itself (a thread named "1.0" as a string: that thread is its owner's and stays). In place and
 * idempotent: processes opening the file at once each move what is left, under SQLite's write
 * lock (BEGIN IMMEDIATE), and a second run finds nothing. Returns how many rows moved.
 */
export async function moveNumericThreadIds(db: Database.Database, usersOf: (threadId: string) => Promise<string[]>): Promise<number> {
  const tables = TABLES.filter((table) => tableExists(db, table));
  if (tables.length === 0) return 0;
  const moves: Array<[from: string, to: string]> = [];
  for (const from of legacyIds(db, tables)) {
    const to = String(Number(from));
    // A user named this very text as a string id (their claim is under it): their thread.
    if ((await usersOf(from)).length === 0) moves.push([from, to]);
  }
  if (moves.length === 0) return 0;
  return runSql(db, "checkpointer.moveNumericThreadIds", () =>
    db
      .transaction(() => {
        let moved = 0;
        for (const table of tables) {
          // OR IGNORE: a row already under the new id with the same key (a copy) is kept as it is.
          const update = db.prepare(`UPDATE OR IGNORE ${table} SET thread_id = ? WHERE thread_id = ?`);
          for (const [from, to] of moves) moved += update.run(to, from).changes;
        }
        return moved;
      })
      .immediate(),
  );
}

/**
 * The thread ids that are the REAL text SQLite makes of an integer whose string differs: what a
 * numeric thread_id became. "1.5" is its own string (as the number 1.5 was always stored), and
 * text that SQLite would not print so ("1.00", "01.0") is no number it stored. Integers of 15
 * digits and more are left: SQLite printed them with 15 significant digits ("1.23456789012346e+15"),
 * so their text no longer says which number they were.
 */
function legacyIds(db: Database.Database, tables: readonly string[]): string[] {
  const found = new Set<string>();
  for (const table of tables) {
    const rows = runSql(db, "checkpointer.legacyThreadIds", () =>
      db
        .prepare<[], { thread_id: string }>(
          `SELECT DISTINCT thread_id FROM ${table}
           WHERE thread_id GLOB '*.0' AND thread_id = CAST(CAST(thread_id AS REAL) AS TEXT)`,
        )
        .all(),
    );
    for (const { thread_id: id } of rows) {
      const value = Number(id);
      if (Number.isInteger(value) && Math.abs(value) < 1e15 && String(value) !== id && sqliteText(db, value) === id) found.add(id);
    }
  }
  return [...found];
}

/** The text SQLite stores for the number bound as REAL into a TEXT column (as better-sqlite3 binds it). */
function sqliteText(db: Database.Database, value: number): string | undefined {
  return db.prepare<[number], { text: string }>("SELECT CAST(? AS TEXT) AS text").get(value)?.text;
}

function tableExists(db: Database.Database, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}
