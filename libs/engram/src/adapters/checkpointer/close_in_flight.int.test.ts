import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  emptyCheckpoint,
  MemorySaver,
  type Checkpoint,
  type CheckpointMetadata,
} from "@langchain/langgraph-checkpoint";
import { isEngramError } from "../../core/errors.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { EngramCheckpointer } from "./checkpointer.js";

// close() while a run's put is inside the saver (a server shutting down with a run in flight).
// The put used to store its checkpoint and then fail to record the filing (CLOSED): the run
// failed, and its new messages were in the saver but never filed into Memory, by this process or
// the next (a later put of the thread files them, but a thread that ends there never has one).

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const checkpointers: EngramCheckpointer[] = [];
afterAll(async () => {
  for (const c of checkpointers) await c.close();
});
const memories = testMemories();

/** A MemorySaver whose puts wait at a gate once it is set: the test holds a put in flight there. */
class GatedSaver extends MemorySaver {
  gate?: Promise<void>;

  entered = 0;

  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata): Promise<RunnableConfig> {
    this.entered += 1;
    if (this.gate) await this.gate;
    return super.put(config, checkpoint, metadata);
  }
}

function checkpointWith(text: string): Checkpoint {
  const checkpoint = emptyCheckpoint();
  checkpoint.channel_values = { messages: [new HumanMessage({ id: `msg-${text.length}`, content: text })] };
  checkpoint.channel_versions = { messages: 1 };
  return checkpoint;
}

const config = { configurable: { thread_id: "shutdown", user_id: "alice", checkpoint_ns: "" } };
const metadata: CheckpointMetadata = { source: "loop", step: 0, parents: {} };

describe("EngramCheckpointer.close() with a put in flight", () => {
  it("waits for the put, whose checkpoint and filing both land; a put started after close() is refused with CLOSED before the saver sees it", async () => {
    const memory = memories.open("close", { prefix: "close", embeddings: new HashEmbeddings() });
    const saver = new GatedSaver();
    const engram = new EngramCheckpointer({ memory, saver });
    checkpointers.push(engram);
    // The thread exists (an earlier turn), so the put below is the run's next step.
    await engram.put(config, checkpointWith("hello"), metadata, { messages: 1 });

    let release!: () => void;
    saver.gate = new Promise<void>((resolve) => (release = resolve));
    const inFlight = engram.put(config, checkpointWith("I keep bees on my roof"), metadata, { messages: 2 }).then(
      () => "stored",
      (error: unknown) => (isEngramError(error) ? error.code : String(error)),
    );
    while (saver.entered < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const closing = engram.close();

    // A new write during close() is refused before it reaches the saver.
    const late = await engram.put(config, checkpointWith("too late"), metadata, { messages: 3 }).then(
      () => "stored",
      (error: unknown) => (isEngramError(error) ? error.code : String(error)),
    );
    expect(late).toBe("CLOSED");
    expect(saver.entered).toBe(2);

    release();
    expect(await inFlight).toBe("stored");
    await closing;

    // The next checkpointer on the same state files what the closed one recorded.
    const next = new EngramCheckpointer({ memory, saver });
    checkpointers.push(next);
    await next.flush();
    const filed = (await memory.getAll({ userId: "alice", threadId: "shutdown" })).map((record) => record.content).sort();
    expect(filed).toEqual(["I keep bees on my roof", "hello"]);
    expect((await next.getTuple(config))?.checkpoint.channel_values.messages).toHaveLength(1);
  });
});
