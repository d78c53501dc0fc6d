import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { emptyCheckpoint, MemorySaver, type CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { EngramCheckpointer } from "./checkpointer.js";

// recall() leaves out the current thread's memories (they are in the window) by asking Memory
// for more and dropping them. It asked once, for limit * 4 + 20: in a long thread, whose own
// messages are the nearest to its own question, every one of those was the thread's own, and
// recall returned nothing from the user's other threads, however near they were.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const checkpointers: EngramCheckpointer[] = [];
afterAll(async () => {
  for (const c of checkpointers) await c.close();
});
const memories = testMemories();
const metadata: CheckpointMetadata = { source: "loop", step: 0, parents: {} };

async function file(engram: EngramCheckpointer, threadId: string, messages: BaseMessage[]): Promise<void> {
  const checkpoint = emptyCheckpoint();
  checkpoint.channel_values = { messages };
  checkpoint.channel_versions = { messages: 1 };
  await engram.put({ configurable: { thread_id: threadId, user_id: "alice", checkpoint_ns: "" } }, checkpoint, metadata, { messages: 1 });
}

describe("EngramCheckpointer.recall in a long thread", () => {
  it("returns the user's memories of other threads even when more than limit * 4 + 20 of the current thread's rank above them", async () => {
    // Test embeddings (shared words make texts near): the long thread's messages share more
    // words with the question than the other thread's fact does, so they all rank above it.
    const memory = memories.open("long", { prefix: "long", embeddings: new HashEmbeddings() });
    const engram = new EngramCheckpointer({ memory, saver: new MemorySaver() });
    checkpointers.push(engram);

    await file(engram, "earlier", [new HumanMessage({ id: "e1", content: "My sister Ana lives in Porto." })]);
    const chat: BaseMessage[] = [];
    for (let turn = 1; turn <= 30; turn += 1) {
      chat.push(new HumanMessage({ id: `q${turn}`, content: `Where does my sister live, question ${turn} of our chat about where my sister does live?` }));
      chat.push(new AIMessage({ id: `a${turn}`, content: `Answer ${turn}: I do not know where your sister does live.` }));
    }
    await file(engram, "long", chat);
    expect(await engram.flush()).toEqual({ filed: 61, skipped: [], pending: 0 });

    const config = { configurable: { thread_id: "long", user_id: "alice" } };
    const question = "Where does my sister live?";
    // Memory ranks the long thread's 60 messages first: more than limit * 4 + 20 = 40 of them.
    const all = await memory.search(question, { userId: "alice", limit: 100 });
    expect(all.findIndex((hit) => hit.scope.threadId === "earlier")).toBeGreaterThanOrEqual(40);

    const recalled = await engram.recall(question, config, { limit: 5 });
    expect(recalled.map((hit) => hit.content)).toEqual(["My sister Ana lives in Porto."]);
  });
});
