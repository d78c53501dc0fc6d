/**
 * Where the checkpointer's filing log still finds the SQLite helpers until it moves to the state
 * backend's `filings()` (state/sqlite/database.ts is their home).
 */
export { DATABASE_FILE_NAME, databaseFile, openDatabase, runSql } from "../state/sqlite/database.js";
