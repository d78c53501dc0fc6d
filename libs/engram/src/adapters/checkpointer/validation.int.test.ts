import { afterAll, beforeAll, describe } from "@jest/globals";
import { join } from "node:path";
import { MemorySaver } from "@langchain/langgraph-checkpoint";
import { deltaChannelHistoryTests, validate, type CheckpointSaverTestInitializer } from "@langchain/langgraph-checkpoint-validation";
import { LocalEmbeddings } from "../../embeddings/local.js";
import { Memory } from "../../memory/memory.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { EngramCheckpointer } from "./checkpointer.js";

// The official conformance suite of @langchain/langgraph-checkpoint-validation, run on
// EngramCheckpointer over a real Memory (a real Chroma server, the local embedding model).
// The suite keys its known skips by `checkpointerName`: the wrapper stores through the inner saver
// unchanged, so each run carries the inner saver's name and inherits exactly its upstream skips
// (one test each: "should only store channel_values that have changed", a TODO upstream for
// both MemorySaver and SqliteSaver).

let chroma: TestChroma;
let memory: Memory;
let created = 0;

beforeAll(async () => {
  chroma = await startTestChroma();
  memory = new Memory({ dataDir: join(chroma.dir, "data"), embeddings: new LocalEmbeddings(), chroma: { url: chroma.server.url } });
});

afterAll(async () => {
  await memory.close();
  await chroma.stop();
});

function initializer(name: string, inner: () => MemorySaver | undefined): CheckpointSaverTestInitializer<EngramCheckpointer> {
  return {
    checkpointerName: name,
    // Each set of tests gets a fresh bookkeeping file (and, for the default saver, fresh checkpoints).
    createCheckpointer: () => {
      created += 1;
      const saver = inner();
      return new EngramCheckpointer({
        memory,
        ...(saver ? { saver } : {}),
        databasePath: join(chroma.dir, `checkpoints-${created}.sqlite`),
      });
    },
    destroyCheckpointer: (checkpointer) => checkpointer.close(),
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
