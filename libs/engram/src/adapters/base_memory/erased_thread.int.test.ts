import { describe, expect, it } from "@jest/globals";
import { ConversationChain } from "@langchain/classic/chains";
import type { Memory } from "../../memory/memory.js";
import { testMemories } from "../../tests/memories.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { EngramMemory } from "./engram_memory.js";

/*
 * EngramMemory keeps each thread's window and running summary in process (thread_state.ts), for
 * as long as the process serves the thread. `Memory.deleteAll` erases the user; what it erased
 * must not come back from there: not in the next prompt, and not stored again when the old turns
 * leave the window and are folded into a summary.
 */

const memories = testMemories();

function chain(model: RecordingChatModel, memory: Memory, threadId: string): ConversationChain {
  return new ConversationChain({ llm: model, memory: new EngramMemory({ memory, userId: "erin", threadId, window: { maxTurns: 2 }, onWarning: () => {} }) });
}

function lastPrompt(model: RecordingChatModel): string {
  return (model.calls.at(-1) ?? []).map((m) => m.text).join("\n");
}

describe("EngramMemory after its user's erasure", () => {
  it("shows nothing of the erased turns and stores none of them again", async () => {
    const memory = await memories.open("erased-thread", { prefix: "erasedthread" });
    const model = new RecordingChatModel("Noted.");
    await chain(model, memory, "t1").invoke({ input: "My favourite hiking trail is the Kungsleden in Lapland." });
    await chain(model, memory, "t1").invoke({ input: "My bank PIN is 4417, please remember it." });
    await chain(model, memory, "t1").invoke({ input: "I was born in Uppsala." });
    expect(lastPrompt(model)).toContain("Kungsleden");

    await memory.deleteAll({ userId: "erin" });
    expect(await memory.getAll({ userId: "erin" })).toEqual([]);

    // The chain is rebuilt per request, as a web server does: the same Memory, user and thread.
    await chain(model, memory, "t1").invoke({ input: "What do you know about me?" });
    const prompt = lastPrompt(model);
    for (const erased of ["Kungsleden", "4417", "Uppsala"]) expect(prompt).not.toContain(erased);
    await chain(model, memory, "t1").invoke({ input: "Tell me a joke." });
    await chain(model, memory, "t1").invoke({ input: "Another one, please." });
    await memory.flush();
    const stored = (await memory.getAll({ userId: "erin" })).map((record) => record.content).join("\n");
    for (const erased of ["Kungsleden", "4417", "Uppsala"]) expect(stored).not.toContain(erased);
    // Turns after the erasure are the thread's new start: kept as usual.
    expect(lastPrompt(model)).toContain("Tell me a joke.");
  });
});
