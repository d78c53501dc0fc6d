import { describe, expect, it } from "@jest/globals";
import { MemorySaver } from "@langchain/langgraph";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { createMemoryGraph } from "./agent.js";
import { codeOf, runConfig, say } from "../tests/runs.js";

/*
 * A thread's window and running summary live in the thread's checkpoints, keyed by thread_id only.
 * Apps reuse thread ids ("1" in LangGraph's own examples): a run of another user on a thread must
 * not show the first user's conversation to the model, nor file it into the other user's memory.
 */
const memories = testMemories();

describe("a thread belongs to the user of its first run", () => {
  it("refuses another user's run and session end on the thread: the model never sees the first user's turns, nothing is filed for the other user", async () => {
    const m = memories.open("owner");
    const model = new RecordingChatModel("Noted.");
    const graph = createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), window: { maxTurns: 2 }, onWarning: () => {} });
    for (const text of ["My bank PIN is 4711.", "My diagnosis is diabetes, keep it private.", "My sister is called Ines.", "I hide the spare key under the mat."]) {
      await graph.invoke(say(text), runConfig("alice", "1"));
    }
    // Alice's earlier turns left the window: they are in the thread's running summary.
    expect(model.lastSystem).toContain("4711");
    const calls = model.calls.length;

    expect(await codeOf(graph.invoke(say("Hello, who am I?"), runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    expect(await codeOf(graph.endSession(runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    expect(model.calls.length).toBe(calls);
    await m.flush();
    expect(await m.getAll({ userId: "bob" })).toEqual([]);

    // Alice goes on in her thread; bob in his own.
    await graph.invoke(say("What is my sister called?"), runConfig("alice", "1"));
    expect(model.lastSystem).toContain("4711");
    await graph.invoke(say("Hello, who am I?"), runConfig("bob", "b-1"));
    expect(model.lastSystem).not.toMatch(/4711|diabetes|Ines|mat/);
    expect(model.lastConversation).toEqual(["Hello, who am I?"]);
    await graph.endSession(runConfig("bob", "b-1"));
    await m.flush();
    expect((await m.getAll({ userId: "bob" })).map((record) => record.content).join("\n")).not.toMatch(/4711|diabetes|Ines|mat/);
  });

  it("a run's input cannot name the owner, and no update changes it once set", async () => {
    // An app that passes a client's request body on as the run's input: Bob names himself the
    // owner of Alice's thread. Before, the input's owner replaced Alice's before the checks ran,
    // and the model was shown her window and summary.
    const m = memories.open("owner-input");
    const model = new RecordingChatModel("Noted.");
    const graph = createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), window: { maxTurns: 2 }, onWarning: () => {} });
    for (const text of ["My bank PIN is 4711.", "My sister is called Ines.", "I hide the spare key under the mat."]) {
      await graph.invoke(say(text), runConfig("alice", "1"));
    }
    const calls = model.calls.length;
    const claimed = { ...say("Hello, who am I?"), owner: "bob" } as Parameters<typeof graph.invoke>[0];
    expect(await codeOf(graph.invoke(claimed, runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    expect(model.calls.length).toBe(calls);
    // Nor through the state's own update (an app's updateState, a Command's update).
    await graph.updateState(runConfig("alice", "1"), { owner: "bob" });
    expect((await graph.getState(runConfig("alice", "1"))).values.owner).toBe("alice");
    expect(await codeOf(graph.invoke(say("Hello, who am I?"), runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    expect(model.calls.length).toBe(calls);
    await graph.invoke(say("What is my sister called?"), runConfig("alice", "1"));
    expect(model.lastSystem).toContain("4711");
  });
});
