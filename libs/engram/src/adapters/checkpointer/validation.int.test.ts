import { beforeAll, describe } from "@jest/globals";
import { join } from "node:path";
import { MemorySaver } from "@langchain/langgraph-checkpoint";
import { deltaChannelHistoryTests, validate, type CheckpointSaverTestInitializer } from "@langchain/langgraph-checkpoint-validation";
import type { Memory } from "../../memory/memory.js";
import { testMemories } from "../../tests/memories.js";
import { EngramCheckpointer } from "./checkpointer.js";

// The official conformance suite of @langchain/langgraph-checkpoint-validation, run on
// EngramCheckpointer over a real Memory (a real Chroma server, the local embedding model).
// The suite keys its known skips by `checkpointerName`: the wrapper stores through the inner saver
// unchanged, so each run carries the inner saver's name and inherits exactly its upstream skips
// (one test each: "should only store channel_values that have changed", a TODO upstream for
// both MemorySaver and SqliteSaver).

const memories = testMemories();
let memory: Memory;
let created = 0;

beforeAll(() => {
  memory = memories.open("data");
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
        databasePath: join(memories.chroma.dir, `checkpoints-${created}.sqlite`),
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
