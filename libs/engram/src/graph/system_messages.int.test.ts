/**
 * A client that sends its system message with every request (chat UIs and OpenAI-style proxies
 * do): each turn adds a copy to the thread, and system messages never leave the window. Before,
 * the copies piled up in the thread for ever and the model's system prompt repeated the text once
 * per turn, so the prompt grew with the conversation however small the window. Real Memory on a
 * real Chroma server; the model is a fake whose prompts are recorded and checked.
 */
import { describe, expect, it } from "@jest/globals";
import { HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { runConfig } from "../tests/runs.js";
import { createMemoryGraph } from "./agent.js";

const memories = testMemories();

const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe("a system message sent with every turn", () => {
  it("reaches the model once, and the thread keeps one copy of it", async () => {
    const m = memories.open("system-every-turn");
    const model = new RecordingChatModel("D'accord.");
    const graph = createMemoryGraph({ memory: m, model, window: { maxTurns: 2 }, checkpointer: new MemorySaver(), onWarning: () => {} });
    const cfg = runConfig("alice", "1");

    for (const said of ["I live in Lisbon.", "I have a cat called Miso.", "My sister is Ana.", "I work as a nurse.", "What do you know about me?"]) {
      await graph.invoke({ messages: [new SystemMessage("Answer in French."), new HumanMessage(said)] }, cfg);
    }
    expect(occurrences(model.lastSystem, "Answer in French.")).toBe(1);
    const kept = (await graph.getState(cfg)).values.messages as BaseMessage[];
    expect(kept.filter((message) => message.getType() === "system").map((message) => message.text)).toEqual(["Answer in French."]);
    // Another system text is kept beside it.
    await graph.invoke({ messages: [new SystemMessage("Be brief."), new HumanMessage("Thanks!")] }, cfg);
    expect(occurrences(model.lastSystem, "Answer in French.")).toBe(1);
    expect(model.lastSystem).toContain("Be brief.");
  });
});
