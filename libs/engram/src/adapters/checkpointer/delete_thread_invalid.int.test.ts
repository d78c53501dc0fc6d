import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { emptyCheckpoint, MemorySaver, type CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { EngramCheckpointer } from "./checkpointer.js";

// deleteThread deletes the memories filed from the thread, which it finds with Memory.getAll. A
// fact that a later one contradicted keeps its content and gains metadata.validUntil (Memory's
// fact extraction supersedes it so, in the scope it was extracted in, thread included), and
// getAll leaves such facts out unless asked (includeInvalid): deleteThread left them in the
// store, the thread's old content still recallable with includeInvalid.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const checkpointers: EngramCheckpointer[] = [];
afterAll(async () => {
  for (const c of checkpointers) await c.close();
});
const memories = testMemories();
const metadata: CheckpointMetadata = { source: "loop", step: 0, parents: {} };

describe("EngramCheckpointer.deleteThread", () => {
  it("deletes the thread's memories whose validity ended (superseded facts) with the rest", async () => {
    const memory = memories.open("invalid", { prefix: "invalid", embeddings: new HashEmbeddings() });
    const engram = new EngramCheckpointer({ memory, saver: new MemorySaver() });
    checkpointers.push(engram);
    const checkpoint = emptyCheckpoint();
    checkpoint.channel_values = {
      messages: [new HumanMessage({ id: "h1", content: "I live in Lisbon." }), new AIMessage({ id: "a1", content: "Lisbon is lovely." })],
    };
    checkpoint.channel_versions = { messages: 1 };
    await engram.put({ configurable: { thread_id: "move", user_id: "alice", checkpoint_ns: "" } }, checkpoint, metadata, { messages: 1 });
    await engram.flush();
    const filed = await memory.getAll({ userId: "alice", threadId: "move" });
    expect(filed).toHaveLength(2);
    // One of them stops being true, as a contradicted fact does.
    const ended = filed.find((record) => record.content === "I live in Lisbon.")!;
    await memory.update(ended.id, { metadata: { validUntil: Date.now() - 60_000 } }, { userId: "alice" });
    expect(await memory.getAll({ userId: "alice", threadId: "move" })).toHaveLength(1);

    const report = await engram.deleteThreadMemories("move");
    expect(report.deleted).toEqual({ alice: 2 });
    expect(await memory.getAll({ userId: "alice", threadId: "move", includeInvalid: true })).toEqual([]);
  });
});
