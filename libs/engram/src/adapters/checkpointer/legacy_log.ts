/**
 * The filing log older versions kept in the checkpoints file (`engram_checkpointer_filed` and
 * `engram_checkpointer_queue` of `<data folder>/checkpoints.sqlite`), moved into Memory's SQLite
 * state, where it is now kept: there `Memory.deleteAll` erases a user's rows of it with the rest of
 * the user (a filing of an erased user waiting in the checkpoints file was filed back later, and
 * the user's threads stayed theirs), and `engram migrate-state` copies it to PostgreSQL.
 */
import { existsSync, realpathSync } from "node:fs";
import type Database from "better-sqlite3";
import { runSql } from "../../state/sqlite/database.js";

const TABLES = ["engram_checkpointer_filed", "engram_checkpointer_queue"] as const;

/**
 * Moves the legacy log of the checkpoints file open on `db` into the state file `stateFile`, whose
 * filing tables exist, in one transaction, and drops the legacy tables (so the next open finds
 * nothing to move). Processes opening the folder at once: the first moves, the others find the
 * tables gone. Returns how many rows moved.
 */
export function moveLegacyFilings(db: Database.Database, checkpointsFile: string, stateFile: string): number {
  if (!existsSync(stateFile) || realpathSync(checkpointsFile) === realpathSync(stateFile)) return 0;
  if (!TABLES.some((table) => tableExists(db, "main", table))) return 0;
  return runSql(db, "checkpointer.moveLegacyFilings", () => {
    db.prepare("ATTACH DATABASE ? AS engram_state").run(stateFile);
    try {
      return db
        .transaction(() => {
          let moved = 0;
          // Checked again under the write lock: another process may have moved them meanwhile.
          if (tableExists(db, "main", TABLES[0])) {
            moved += db
              .prepare(
                `INSERT OR IGNORE INTO engram_state.engram_checkpointer_filed (thread_id, user_id, message_key)
                 SELECT thread_id, user_id, message_key FROM main.engram_checkpointer_filed`,
              )
              .run().changes;
            db.exec("DROP TABLE main.engram_checkpointer_filed");
          }
          if (tableExists(db, "main", TABLES[1])) {
            moved += db
              .prepare(
                `INSERT INTO engram_state.engram_checkpointer_queue (thread_id, user_id, messages, created_at, attempts, last_error)
                 SELECT thread_id, user_id, messages, created_at, attempts, last_error FROM main.engram_checkpointer_queue ORDER BY seq`,
              )
              .run().changes;
            db.exec("DROP TABLE main.engram_checkpointer_queue");
          }
          return moved;
        })
        .immediate();
    } finally {
      db.prepare("DETACH DATABASE engram_state").run();
    }
  });
}

function tableExists(db: Database.Database, schema: string, table: string): boolean {
  return db.prepare(`SELECT 1 FROM ${schema}.sqlite_master WHERE type = 'table' AND name = ?`).get(table) !== undefined;
}
