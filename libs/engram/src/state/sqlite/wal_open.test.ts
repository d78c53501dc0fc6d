import { describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../../tests/chroma.js";
import { openDatabase } from "./database.js";

const HOLDER = fileURLToPath(new URL("../tests/write_lock_holder.mjs", import.meta.url));

/*
 * Two processes opening one new data folder at once: the first makes the file and creates its
 * tables (a write transaction), the second switches the file to WAL, which needs an exclusive
 * lock. SQLite refuses that switch at once (SQLITE_BUSY, no busy wait) while another connection
 * holds a write lock, and openDatabase failed with "database is locked"; it must wait its turn.
 */
describe("openDatabase while another process writes the new file", () => {
  it("waits for the other process's write lock, then the file is in WAL mode", async () => {
    const file = join(await tempDir(), "engram.sqlite");
    const holder = spawn(process.execPath, [HOLDER, file, "300"], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(holder, "exit");
    await once(holder.stdout, "data"); // "held": the other process has its write lock
    const db = openDatabase(file);
    try {
      expect(String(db.pragma("journal_mode", { simple: true })).toLowerCase()).toBe("wal");
      // The other process's tables are there: it committed before this one switched.
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'first_tables'").get()).toEqual({ name: "first_tables" });
    } finally {
      db.close();
    }
    expect((await exited)[0]).toBe(0);
  });
});
