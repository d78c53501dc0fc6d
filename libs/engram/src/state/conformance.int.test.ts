import { afterAll, beforeAll } from "@jest/globals";
import { freshDatabase, startPostgres, type TestPostgres } from "../tests/postgres.js";
import { describeStateConformance } from "./conformance.js";
import { PostgresState } from "./postgres/index.js";

// One real PostgreSQL cluster for the file, one database, one schema per test.
let postgres: TestPostgres | undefined;
let database = "";
let schemas = 0;

beforeAll(async () => {
  postgres = await startPostgres();
  database = await freshDatabase(postgres.url);
});

afterAll(async () => {
  await postgres?.stop();
});

describeStateConformance({
  name: "PostgresState",
  fresh: async () => {
    const schema = `conformance_${(schemas += 1)}`;
    // Two calls of this are two pools: two replicas on one database.
    return () => new PostgresState({ postgres: database, schema });
  },
});
