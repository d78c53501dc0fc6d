import { describe, expect, it } from "@jest/globals";
import { AIMessage } from "@langchain/core/messages";
import { countTokens } from "./tokens.js";

// A model that reasons sends its reasoning back in the message's content (Anthropic's `thinking`
// blocks, LangChain's standard `reasoning` blocks), and the provider bills it as input when the
// message goes out again: the window undercounted such messages by the whole reasoning.
describe("countTokens of a message with reasoning blocks", () => {
  const reasoning = "Let me think about the user's trip: they fly to Lisbon on Friday and come back on Monday. ".repeat(20);
  const plain = countTokens([new AIMessage({ content: [{ type: "text", text: "Have a good trip!" }] })]);
  const ofReasoning = countTokens(reasoning);

  it("counts a thinking block and a reasoning block, not only the text", () => {
    const thinking = countTokens([new AIMessage({ content: [{ type: "thinking", thinking: reasoning, signature: "abc" }, { type: "text", text: "Have a good trip!" }] })]);
    const standard = countTokens([new AIMessage({ content: [{ type: "reasoning", reasoning }, { type: "text", text: "Have a good trip!" }] })]);
    for (const counted of [thinking, standard]) {
      expect(counted).toBeGreaterThanOrEqual(plain + ofReasoning - 2);
      expect(counted).toBeLessThanOrEqual(plain + ofReasoning + 2);
    }
  });
});
