import { describe, expect, it } from "@jest/globals";
import { ConversationChain } from "@langchain/classic/chains";
import { testMemories } from "../../tests/memories.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { EngramMemory } from "./engram_memory.js";

// Two runs of one thread at once (a user who sends twice, a server building a chain per request):
// each saveContext built its window from the window before both, and the later one replaced the
// thread's window with its own: the earlier turn was in neither the window nor the summary.
const memories = testMemories();

describe("EngramMemory: two turns of one thread saved at once (real Chroma, local model)", () => {
  it("keeps both turns in the window, and the next prompt holds both", async () => {
    const memory = memories.open("concurrent-turns", { prefix: "ct", writes: "sync" });
    const model = new RecordingChatModel((_messages, call) => `Reply number ${call}.`);
    // Nothing is important enough to be stored: the window is the turns' only place.
    const options = { memory, userId: "ines", threadId: "t-1", importanceThreshold: 1, onWarning: () => {} };
    // Two requests' chains save their turns at once (each chain's run ends with saveContext).
    await Promise.all([
      new EngramMemory(options).saveContext({ input: "The kettle is on." }, { response: "Tea soon." }),
      new EngramMemory(options).saveContext({ input: "The cat is asleep." }, { response: "Let it sleep." }),
    ]);
    await new ConversationChain({ llm: model, memory: new EngramMemory(options) }).invoke({ input: "What did I say?" });
    const prompt = model.calls.at(-1)!.map((m) => m.text).join("\n");
    expect(prompt).toContain("Human: The kettle is on.");
    expect(prompt).toContain("Human: The cat is asleep.");
    expect(prompt).toContain("AI: Tea soon.");
    expect(prompt).toContain("AI: Let it sleep.");
    expect(prompt.match(/Human: /g)).toHaveLength(3);
    expect(await memory.getAll({ userId: "ines" })).toEqual([]);
  }, 600_000);
});
