import { afterAll, beforeAll } from "@jest/globals";
import { rm } from "node:fs/promises";
import { tempDir } from "../tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../tests/postgres.js";
import { describeStateConformance } from "./conformance.js";
import { PostgresState } from "./postgres/index.js";
import { SqliteState } from "./sqlite/index.js";

// One real PostgreSQL cluster for the file, one database, one schema per test; one folder per
// test for SQLite. Two instances on one store are two pools (replicas) or two connections to one
// file (processes on one data folder).
let postgres: TestPostgres | undefined;
let database = "";
let schemas = 0;
const folders: string[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  database = await freshDatabase(postgres.url);
});

afterAll(async () => {
  await postgres?.stop();
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

describeStateConformance({
  name: "PostgresState",
  fresh: async () => {
    const schema = `conformance_${(schemas += 1)}`;
    return () => new PostgresState({ postgres: database, schema });
  },
});

describeStateConformance({
  name: "SqliteState",
  fresh: async () => {
    const folder = await tempDir("engram-state-");
    folders.push(folder);
    return () => new SqliteState({ path: folder });
  },
});
