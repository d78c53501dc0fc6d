import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { isEngramError } from "../../core/errors.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { EngramCheckpointer } from "./checkpointer.js";

// Thread ids LangGraph takes and Memory's scope does not (over 256 characters, a tab or a newline
// in them): runs that name no user store checkpoints under them (they are not filed, so never
// checked). deleteThread refused such an id with INVALID_SCOPE, so the app could never delete
// those checkpoints through the checkpointer. And a numeric thread_id (the LangGraph API's "1"
// habit): Engram files and claims it as "1", but SqliteSaver stored it as "1.0" (better-sqlite3
// binds a number as REAL), so deleteThread("1") erased the memories and the claim and left the
// checkpoints, which the next user's run with thread_id 1 then claimed and read; and recall on
// thread_id 1 returned the thread's own memories, which it leaves out for a string id.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const checkpointers: EngramCheckpointer[] = [];
afterAll(async () => {
  for (const c of checkpointers) await c.close();
});
const memories = testMemories();

function chat(engram: EngramCheckpointer) {
  return new StateGraph(MessagesAnnotation)
    .addNode("reply", (state) => ({ messages: [new AIMessage(`Reply to: ${state.messages[state.messages.length - 1]!.text}`)] }))
    .addEdge(START, "reply")
    .addEdge("reply", END)
    .compile({ checkpointer: engram });
}

describe("EngramCheckpointer and thread ids Memory's scope refuses", () => {
  it("deleteThread deletes the checkpoints of a thread whose id is over 256 characters or holds a tab; a numeric thread id is stored, filed, recalled and deleted as its string", async () => {
    const memory = memories.open("odd", { prefix: "odd", embeddings: new HashEmbeddings() });
    const engram = new EngramCheckpointer({ memory });
    checkpointers.push(engram);
    const graph = chat(engram);
    const long = `org-42/team-7/conversation/${"x".repeat(300)}`;
    const tabbed = "support\tticket 9";
    for (const threadId of [long, tabbed]) {
      await graph.invoke({ messages: [new HumanMessage("hello")] }, { configurable: { thread_id: threadId } });
      expect(await engram.getTuple({ configurable: { thread_id: threadId } })).toBeDefined();
      await engram.deleteThread(threadId);
      expect(await engram.getTuple({ configurable: { thread_id: threadId } })).toBeUndefined();
    }
    // Still refused: ids that name no thread at all.
    for (const bad of ["", 7 as unknown as string]) {
      const error = await engram.deleteThread(bad).then(() => undefined, (e: unknown) => e);
      expect(isEngramError(error) && error.code).toBe("INVALID_SCOPE");
    }

    const numeric: RunnableConfig = { configurable: { thread_id: 1, user_id: "alice" } };
    await graph.invoke({ messages: [new HumanMessage("My cat is called Miso.")] }, numeric);
    await engram.flush();
    expect((await memory.getAll({ userId: "alice", threadId: "1" })).map((r) => r.content).sort()).toEqual([
      "My cat is called Miso.",
      "Reply to: My cat is called Miso.",
    ]);
    // recall leaves out the thread's own memories (they are in the window), by its string id.
    expect(await engram.recall("What is my cat called?", numeric)).toEqual([]);
    await engram.deleteThread("1");
    expect(await memory.getAll({ userId: "alice" })).toEqual([]);
    expect(await engram.getTuple(numeric)).toBeUndefined();
    // The id is free for a new thread: bob's run on it starts from nothing of alice's.
    const bob = await graph.invoke({ messages: [new HumanMessage("Hi")] }, { configurable: { thread_id: 1, user_id: "bob" } });
    expect(bob.messages.map((m) => m.text)).toEqual(["Hi", "Reply to: Hi"]);
  });
});
