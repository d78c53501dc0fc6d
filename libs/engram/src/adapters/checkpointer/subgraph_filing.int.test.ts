import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { EngramCheckpointer } from "./checkpointer.js";

// A subgraph run inside a graph (a worker agent a supervisor calls, a subgraph node) stores its
// checkpoints through the graph's checkpointer, with the run's user_id, under a namespace of its
// own. Its messages channel is its own conversation: the supervisor's instruction to the worker
// is a HumanMessage there, and it was filed into the user's memory as something the user said,
// with the worker's internal reply. Only the root graph's messages are the thread's conversation.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const checkpointers: EngramCheckpointer[] = [];
afterAll(async () => {
  for (const c of checkpointers) await c.close();
});
const memories = testMemories();

describe("EngramCheckpointer with subgraphs", () => {
  it("files the root graph's conversation only: a worker subgraph's instruction and reply are not the user's", async () => {
    const memory = memories.open("sub", { prefix: "sub", embeddings: new HashEmbeddings() });
    const engram = new EngramCheckpointer({ memory });
    checkpointers.push(engram);
    const worker = new StateGraph(MessagesAnnotation)
      .addNode("work", (state) => ({ messages: [new AIMessage(`Worker log: handled "${state.messages[0]!.text}"`)] }))
      .addEdge(START, "work")
      .addEdge("work", END)
      .compile();
    // The supervisor gives the worker a task of its own wording, then answers the user.
    const supervisor = new StateGraph(MessagesAnnotation)
      .addNode("supervise", async (_state, config) => {
        await worker.invoke({ messages: [new HumanMessage("Book a flight to Porto for Friday")] }, config);
        return { messages: [new AIMessage("Your flight to Porto is booked.")] };
      })
      .addEdge(START, "supervise")
      .addEdge("supervise", END)
      .compile({ checkpointer: engram });
    // A subgraph as a node shares the root's messages: its reply reaches the root and is filed.
    const withNode = new StateGraph(MessagesAnnotation).addNode("worker", worker).addEdge(START, "worker").addEdge("worker", END).compile({ checkpointer: engram });

    await supervisor.invoke({ messages: [new HumanMessage("Plan my trip to Porto")] }, { configurable: { thread_id: "trip", user_id: "alice" } });
    await withNode.invoke({ messages: [new HumanMessage("Check my booking")] }, { configurable: { thread_id: "check", user_id: "alice" } });
    await engram.flush();

    const filed = async (threadId: string) => (await memory.getAll({ userId: "alice", threadId })).map((r) => `${r.role}: ${r.content}`).sort();
    expect(await filed("trip")).toEqual(["assistant: Your flight to Porto is booked.", "user: Plan my trip to Porto"]);
    expect(await filed("check")).toEqual(['assistant: Worker log: handled "Check my booking"', "user: Check my booking"]);
  });
});
