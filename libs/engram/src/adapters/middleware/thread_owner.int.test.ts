import { describe, expect, it } from "@jest/globals";
import { MemorySaver } from "@langchain/langgraph";
import { createAgent } from "langchain";
import { testMemories } from "../../tests/memories.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { engramMiddleware } from "./middleware.js";
import { codeOf, runConfig, say } from "../../tests/runs.js";

/*
 * The middleware's running summary (`engramSummary`) and the window live in the thread's
 * checkpoints, keyed by thread_id only. A run of another user on a reused thread id must not show
 * the first user's conversation to the model, nor file it into the other user's memory.
 */
const memories = testMemories();

describe("engramMiddleware: a thread belongs to the user of its first run", () => {
  it("refuses another user's run on the thread before the model sees it; nothing is filed for that user", async () => {
    const m = memories.open("mw-owner");
    const model = new RecordingChatModel("Noted.");
    const agent = createAgent({
      model,
      middleware: [engramMiddleware({ memory: m, window: { maxTurns: 2 }, onWarning: () => {} })],
      checkpointer: new MemorySaver(),
    });
    for (const text of ["My bank PIN is 4711.", "My diagnosis is diabetes, keep it private.", "My sister is called Ines.", "I hide the spare key under the mat."]) {
      await agent.invoke(say(text), runConfig("alice", "1"));
    }
    await agent.invoke(say("What is my sister called?"), runConfig("alice", "1"));
    // Alice's earlier turns left the window: they are in the thread's running summary.
    expect(model.lastSystem).toContain("4711");
    const calls = model.calls.length;

    expect(await codeOf(agent.invoke(say("Hello, who am I?"), runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    expect(model.calls.length).toBe(calls);
    await m.flush();
    expect(await m.getAll({ userId: "bob" })).toEqual([]);

    await agent.invoke(say("Hello, who am I?"), runConfig("bob", "b-1"));
    expect(model.lastSystem).not.toMatch(/4711|diabetes|Ines|mat/);
    await agent.invoke(say("Where is my spare key?"), runConfig("alice", "1"));
    expect(model.lastSystem).toContain("4711");
  });
});
