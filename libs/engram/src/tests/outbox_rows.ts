/**
 * Reads a shared state's outbox without a Memory, for race tests that must know a process has
 * queued its write (and is now waiting for the user's drain lock) before they let the next step go.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";

/** Where the state is: a data folder's SQLite (`engram.sqlite` in it), or a PostgreSQL database. */
export type StateAt = { folder: string } | { postgres: string };

/** The payload (JSON text) of the user's queued write of `key`, or undefined when none is queued. */
export async function queuedPayload(state: StateAt, userId: string, key: string): Promise<string | undefined> {
  if ("folder" in state) {
    const db = new Database(join(state.folder, "engram.sqlite"), { readonly: true, fileMustExist: true });
    try {
      return db.prepare<[string, string], { payload: string }>("SELECT payload FROM outbox WHERE user_id = ? AND key = ?").get(userId, key)?.payload;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: state.postgres });
  await client.connect();
  try {
    const { rows } = await client.query<{ payload: string }>("SELECT payload FROM engram.outbox WHERE user_id = $1 AND key = $2", [userId, key]);
    return rows[0]?.payload;
  } finally {
    await client.end();
  }
}
