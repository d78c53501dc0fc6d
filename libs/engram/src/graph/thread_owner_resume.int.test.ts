/**
 * A run resumed where it stopped starts at the pending node, not at `recall` (where the thread's
 * owner was checked): another user's `Command({ resume })` of a thread paused by `interrupt()`, or
 * `invoke(null)` of a thread whose turn stopped before `remember`, must not have the model answer
 * from the owner's window nor file the owner's exchange into the other user's memory. Real Memory
 * on a real Chroma server; the model is a fake whose prompts are recorded and checked.
 */
import { describe, expect, it } from "@jest/globals";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { RunnableLambda } from "@langchain/core/runnables";
import { Command, interrupt, MemorySaver } from "@langchain/langgraph";
import { testMemories } from "../tests/memories.js";
import { codeOf, runConfig, say } from "../tests/runs.js";
import { createMemoryGraph } from "./agent.js";

const memories = testMemories();

describe("a paused or stopped turn resumed by another user on the thread", () => {
  it("is refused before the model sees the thread and before anything is filed; the owner's resume goes on", async () => {
    const m = memories.open("owner-resume");
    const prompts: string[] = [];
    // A model step that asks a person before it answers.
    const model = RunnableLambda.from(async (messages: BaseMessage[]) => {
      const approved = interrupt({ question: "Send the answer?" }) as string;
      prompts.push(messages.map((message) => message.text).join("\n"));
      return new AIMessage(`Transfer to your landlord prepared (${approved}).`);
    });
    const graph = createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), onWarning: () => {} });
    const alice = runConfig("alice", "1");
    const bob = runConfig("bob", "1");

    await graph.invoke(say("My bank PIN is 4711; pay my landlord the rent of 900 euros."), alice);
    expect((await graph.getState(alice)).next).toEqual(["model"]);

    expect(await codeOf(graph.invoke(new Command({ resume: "approved by bob" }), bob))).toBe("INVALID_SCOPE");
    expect(prompts).toEqual([]);
    await m.flush();
    expect(await m.getAll({ userId: "bob" })).toEqual([]);

    // Alice resumes her own turn: the model answers and her exchange is hers.
    await graph.invoke(new Command({ resume: "approved" }), alice);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain("4711");
    await m.flush();
    expect((await m.getAll({ userId: "alice", kind: "episode" })).map((record) => record.content).sort()).toEqual([
      "My bank PIN is 4711; pay my landlord the rent of 900 euros.",
      "Transfer to your landlord prepared (approved).",
    ]);
    expect(await m.getAll({ userId: "bob" })).toEqual([]);
  });

  it("refuses another user's invoke(null) of a turn stopped before remember: nothing of the owner's is filed for them", async () => {
    const m = memories.open("owner-stopped");
    const graph = createMemoryGraph({ memory: m, model: RunnableLambda.from(async () => new AIMessage("Your PIN 4711 is noted.")), checkpointer: new MemorySaver(), onWarning: () => {} });
    // Stopped after the model answered, as a process that died there leaves the thread.
    await graph.invoke(say("Please remember: my bank PIN is 4711."), { ...runConfig("carol", "2"), interruptBefore: ["remember"] });
    expect((await graph.getState(runConfig("carol", "2"))).next).toEqual(["remember"]);

    expect(await codeOf(graph.invoke(null, runConfig("dan", "2")))).toBe("INVALID_SCOPE");
    await m.flush();
    expect(await m.getAll({ userId: "dan" })).toEqual([]);

    await graph.invoke(null, runConfig("carol", "2"));
    await m.flush();
    expect((await m.getAll({ userId: "carol", kind: "episode" })).map((record) => record.content).sort()).toEqual([
      "Please remember: my bank PIN is 4711.",
      "Your PIN 4711 is noted.",
    ]);
  });
});
