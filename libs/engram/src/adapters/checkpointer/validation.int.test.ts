import { afterAll, beforeAll, describe } from "@jest/globals";
import { join } from "node:path";
import { MemorySaver, type BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { deltaChannelHistoryTests, validate, type CheckpointSaverTestInitializer } from "@langchain/langgraph-checkpoint-validation";
import type { Memory } from "../../memory/memory.js";
import { testMemories } from "../../tests/memories.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import { EngramCheckpointer } from "./checkpointer.js";
import { createPostgresSaver, type PostgresCheckpointSaver } from "./postgres_saver.js";

// The official conformance suite of @langchain/langgraph-checkpoint-validation, run on
// EngramCheckpointer over a real Memory (a real Chroma server, the local embedding model).
// The suite keys its known skips by `checkpointerName`: the wrapper stores through the inner saver
// unchanged, so each run carries the inner saver's name and inherits exactly its upstream skips
// (one test each: "should only store channel_values that have changed", a TODO upstream for
// both MemorySaver and SqliteSaver). PostgresSaver has no known skip: every test runs, on a real
// PostgreSQL cluster started for the suite, each checkpointer in a fresh schema.

const memories = testMemories();
let memory: Memory;
let created = 0;

beforeAll(() => {
  memory = memories.open("data");
});

function initializer(
  name: string,
  inner: (n: number) => BaseCheckpointSaver | undefined | Promise<BaseCheckpointSaver>,
  release: (saver: BaseCheckpointSaver) => Promise<void> = async () => undefined,
): CheckpointSaverTestInitializer<EngramCheckpointer> {
  const savers = new Map<EngramCheckpointer, BaseCheckpointSaver>();
  return {
    checkpointerName: name,
    // Each set of tests gets a fresh bookkeeping file (and fresh checkpoints: a new inner saver,
    // a new default SQLite file, or a new PostgreSQL schema).
    createCheckpointer: async () => {
      created += 1;
      const saver = await inner(created);
      const checkpointer = new EngramCheckpointer({
        memory,
        ...(saver ? { saver } : {}),
        databasePath: join(memories.chroma.dir, `checkpoints-${created}.sqlite`),
      });
      if (saver) savers.set(checkpointer, saver);
      return checkpointer;
    },
    destroyCheckpointer: async (checkpointer) => {
      await checkpointer.close();
      const saver = savers.get(checkpointer);
      savers.delete(checkpointer);
      if (saver) await release(saver);
    },
  };
}

describe("EngramCheckpointer wrapping MemorySaver", () => {
  const init = initializer("MemorySaver", () => new MemorySaver());
  validate(init);
  deltaChannelHistoryTests(init);
});

describe("EngramCheckpointer wrapping its default SqliteSaver", () => {
  const init = initializer("@langchain/langgraph-checkpoint-sqlite", () => undefined);
  validate(init);
  deltaChannelHistoryTests(init);
});

describe("EngramCheckpointer wrapping PostgresSaver (a real PostgreSQL)", () => {
  let postgres: TestPostgres | undefined;
  let url = "";
  beforeAll(async () => {
    postgres = await startPostgres();
    url = await freshDatabase(postgres.url, "engram_validation");
  });
  afterAll(async () => {
    await postgres?.stop();
  });
  const init = initializer(
    "@langchain/langgraph-checkpoint-postgres",
    (n) => createPostgresSaver(url, { schema: `validation_${n}` }),
    (saver) => (saver as PostgresCheckpointSaver).end(),
  );
  validate(init);
  deltaChannelHistoryTests(init);
});
