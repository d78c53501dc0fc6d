import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { testMemories } from "../../tests/memories.js";
import { EngramChatMessageHistory } from "./history.js";

// Messages without ids are named by their place and words. After clear(), the same conversation
// again (a scripted bot, canned replies) named its evicted turns as the cleared one had, so their
// summary had the id of the cleared summary: its add was a replay, nothing was written, and the
// retired record stayed out of the history. The turns it covers came back verbatim on every read,
// and the window no longer bounded the prompt.
const memories = testMemories();

const turns: Array<[string, string]> = [
  ["My sister Ana lives in Porto and loves jazz.", "Noted, Ana lives in Porto."],
  ["I am training for a marathon in May.", "Good luck with the marathon."],
  ["What is the capital of France?", "Paris."],
];

describe("EngramChatMessageHistory: the same conversation again after clear() (real Chroma, local model)", () => {
  it("summarizes the turns that leave the window again, and shows the window alone verbatim", async () => {
    const memory = memories.open("clear-repeat", { prefix: "cr", writes: "sync" });
    const history = () => new EngramChatMessageHistory({ memory, userId: "rui", threadId: "t-1", window: { maxTurns: 1 }, onWarning: () => {} });
    const talk = async () => {
      const chat = history();
      for (const [question, answer] of turns) await chat.addMessages([new HumanMessage(question), new AIMessage(answer)]);
      await chat.flush();
      return (await chat.getMessages()).map((message) => `${message.getType()}: ${message.text}`);
    };
    const first = await talk();
    await history().clear();
    const second = await talk();
    expect(second).toEqual(first);
    expect(second).toHaveLength(3);
    expect(second[0]).toMatch(/^system: Summary of the earlier conversation[^\n]*:\n[^]*Porto/);
    expect(second.slice(1)).toEqual(["human: What is the capital of France?", "ai: Paris."]);
    // One summary record of those turns, this conversation's again.
    expect(await memory.getAll({ userId: "rui", kind: "summary" })).toHaveLength(1);
  }, 600_000);
});
