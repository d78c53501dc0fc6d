// Run by state/sqlite/wal_open.test.ts as another process: creates a SQLite file in the rollback
// journal (as a process that just made it would), holds a write transaction on it for `holdMs`,
// printing "held" once it has the lock, then commits and exits.
import Database from "better-sqlite3";

const [file, holdMs] = process.argv.slice(2);
const db = new Database(file);
db.exec("BEGIN IMMEDIATE");
db.exec("CREATE TABLE IF NOT EXISTS first_tables (x)");
process.stdout.write("held\n");
setTimeout(() => {
  db.exec("COMMIT");
  db.close();
}, Number(holdMs));
