import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { testMemories } from "../../tests/memories.js";
import { countTokens } from "../../working/tokens.js";
import { EngramChatMessageHistory } from "./history.js";

// getMessages() showed the newest stored summaries that fit the budget. Each turn leaving the
// window is summarized on its own, so after a few evictions of small talk the first turns' facts
// left the prompt, and the recipe's retriever leaves the thread out (excludeThread): the model
// could no longer know them. The summaries are now folded as the graph's running summary is.
const memories = testMemories();

const FACT = "Please remember: my sister Ana lives in Porto and I am allergic to peanuts.";
const topics = [
  "the weather in town", "a film I watched", "the traffic this morning", "my new desk chair", "a podcast about history",
  "the football match", "the price of coffee", "my neighbour's garden", "the train delays", "a book about birds",
  "the rain last night", "the museum downtown", "my running shoes", "the bakery on the corner", "the concert on Friday",
];

describe("EngramChatMessageHistory over a long conversation (real Chroma, local model)", () => {
  it("keeps the first turns' facts in the summary, within its budget, after many turns of small talk", async () => {
    const memory = memories.open("long-thread", { writes: "sync" });
    const chat = new EngramChatMessageHistory({ memory, userId: "rui", threadId: "t-1", window: { maxTurns: 2 }, summaryMaxTokens: 120, onWarning: () => {} });
    await chat.addMessages([new HumanMessage(FACT), new AIMessage("Noted: Ana lives in Porto, and no peanuts for you.")]);
    for (const topic of topics) {
      await chat.addMessages([new HumanMessage(`Let us talk about ${topic} for a while today.`), new AIMessage(`Sure, ${topic} sounds like a nice thing to discuss.`)]);
      await chat.flush();
    }
    // Every turn that left the window is in a stored summary of its own.
    expect((await memory.getAll({ userId: "rui", kind: "summary", limit: 100 })).length).toBeGreaterThan(5);

    const messages = await chat.getMessages();
    expect(messages.map((m) => m.getType())).toEqual(["system", "human", "ai", "human", "ai"]);
    const summary = messages[0]!.text;
    expect(summary).toContain("Ana lives in Porto");
    expect(summary).toContain("allergic to peanuts");
    expect(countTokens(summary.replace(/^Summary of the earlier conversation[^\n]*:\n/, ""))).toBeLessThanOrEqual(120);
    expect(messages.slice(1).map((m) => m.text)).toEqual([
      "Let us talk about the bakery on the corner for a while today.",
      "Sure, the bakery on the corner sounds like a nice thing to discuss.",
      "Let us talk about the concert on Friday for a while today.",
      "Sure, the concert on Friday sounds like a nice thing to discuss.",
    ]);
  }, 600_000);
});
