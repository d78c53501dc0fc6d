import { afterAll, describe, expect, it } from "@jest/globals";
import { MemorySaver } from "@langchain/langgraph-checkpoint";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { testMemories } from "../../tests/memories.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { codeOf, runConfig, say } from "../../tests/runs.js";
import { EngramCheckpointer } from "./checkpointer.js";

/*
 * A thread's checkpoints are kept by thread_id alone. A run of another user on a reused thread id
 * (LangGraph's examples use "1") would load the first user's conversation into the model's prompt,
 * and the checkpointer would file every message of it into the other user's long-term memory,
 * recalled from all of that user's threads. As in the graph and the middleware, a thread belongs
 * to the user of its first run.
 */
const checkpointers: EngramCheckpointer[] = [];
afterAll(async () => {
  for (const c of checkpointers) await c.close();
});
const memories = testMemories();

describe("EngramCheckpointer: a thread belongs to the user of its first run", () => {
  it("refuses another user's run on the thread before the model sees it; nothing of it is filed for that user", async () => {
    const m = memories.open("cp-owner");
    const engram = new EngramCheckpointer({ memory: m, saver: new MemorySaver() });
    checkpointers.push(engram);
    const model = new RecordingChatModel("Noted.");
    const agent = createReactAgent({ llm: model, tools: [], checkpointer: engram });

    await agent.invoke(say("My bank PIN is 4711."), runConfig("alice", "1"));
    await agent.invoke(say("My diagnosis is diabetes, keep it private."), runConfig("alice", "1"));
    const calls = model.calls.length;

    expect(await codeOf(agent.invoke(say("Hello, who am I?"), runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    expect(model.calls.length).toBe(calls);
    // Reading the thread's state as bob is refused too.
    expect(await codeOf(agent.getState(runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    await engram.flush();
    expect(await m.getAll({ userId: "bob" })).toEqual([]);
    expect(await engram.recall("bank PIN", runConfig("bob", "b-1"))).toEqual([]);

    // Bob's own thread works, and shows nothing of alice's.
    await agent.invoke(say("Hello, who am I?"), runConfig("bob", "b-1"));
    expect(model.lastConversation.join("\n")).not.toMatch(/4711|diabetes/);
    // Alice goes on in her thread.
    await agent.invoke(say("What is my PIN?"), runConfig("alice", "1"));
    expect(model.lastConversation.join("\n")).toContain("4711");
    await engram.flush();
    expect((await m.getAll({ userId: "bob" })).map((r) => r.content).join("\n")).not.toMatch(/4711|diabetes/);

    // Once the thread is deleted, its id is free for anyone.
    await engram.deleteThread("1");
    await agent.invoke(say("Hello again."), runConfig("bob", "1"));
    expect(model.lastConversation.join("\n")).not.toMatch(/4711|diabetes/);
  });
});
