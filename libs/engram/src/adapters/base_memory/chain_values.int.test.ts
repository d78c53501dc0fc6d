import { describe, expect, it } from "@jest/globals";
import { ConversationChain, LLMChain } from "@langchain/classic/chains";
import { PromptTemplate } from "@langchain/core/prompts";
import { isEngramError } from "../../core/errors.js";
import { testMemories } from "../../tests/memories.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { EngramMemory } from "./engram_memory.js";

// EngramMemory read the chain's input and output with LangChain's getInputValue/getOutputValue,
// which throw a plain Error ("input values have 1 keys, you must specify an input key") for a
// chain with several inputs, for an inputKey the chain does not have, and for an empty input ("" is
// taken for a missing value). Now these are typed errors naming the chain's keys, and "" is an input.
const memories = testMemories();

async function caught(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(() => undefined, (error: unknown) => error);
}

describe("EngramMemory reads the chain's input and output values (real Chroma, local model)", () => {
  it("refuses several inputs without inputKey, or an inputKey the chain lacks, with INVALID_OPTIONS; nothing is written", async () => {
    const memory = memories.open("chain-values", { writes: "sync" });
    const model = new RecordingChatModel("Bonjour.");
    const prompt = PromptTemplate.fromTemplate("{history}\nAnswer in {language}: {input}");
    const unnamed = new LLMChain({ llm: model, prompt, memory: new EngramMemory({ memory, userId: "noa", threadId: "n-1", onWarning: () => {} }) });
    const error = await caught(() => unnamed.invoke({ input: "My sister Ana lives in Porto.", language: "French" }));
    expect(isEngramError(error, "INVALID_OPTIONS")).toBe(true);
    expect((error as Error).message).toContain('"input", "language"');
    const wrong = new LLMChain({ llm: model, prompt, memory: new EngramMemory({ memory, userId: "noa", threadId: "n-1", inputKey: "question", onWarning: () => {} }) });
    expect(isEngramError(await caught(() => wrong.invoke({ input: "My sister Ana lives in Porto.", language: "French" })), "INVALID_OPTIONS")).toBe(true);
    expect(model.calls).toHaveLength(0);
    expect(await memory.getAll({ userId: "noa" })).toEqual([]);

    // Named, the chain runs, and its next prompt holds the turn.
    const named = new LLMChain({ llm: model, prompt, memory: new EngramMemory({ memory, userId: "noa", threadId: "n-1", inputKey: "input", onWarning: () => {} }) });
    await named.invoke({ input: "My sister Ana lives in Porto.", language: "French" });
    await named.invoke({ input: "Where does she live?", language: "French" });
    expect(model.calls.at(-1)!.map((m) => m.text).join("\n")).toContain("Human: My sister Ana lives in Porto.\nAI: Bonjour.");
  }, 600_000);

  it("takes an empty input as an input, not as a missing value", async () => {
    const memory = memories.open("chain-empty", { writes: "sync" });
    const model = new RecordingChatModel("Did you mean to say something?");
    const chain = new ConversationChain({ llm: model, memory: new EngramMemory({ memory, userId: "noa", threadId: "n-2", onWarning: () => {} }) });
    await chain.invoke({ input: "" });
    await chain.invoke({ input: "Sorry, I pressed enter." });
    expect(model.calls.at(-1)!.map((m) => m.text).join("\n")).toContain("AI: Did you mean to say something?\nHuman: Sorry, I pressed enter.");
  }, 600_000);
});
