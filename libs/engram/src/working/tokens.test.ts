import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { messageText } from "./message_text.js";
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from "./tokens.js";

describe("countTokens", () => {
  it("counts text with the cl100k_base encoding", () => {
    // Reference counts from OpenAI's tiktoken for cl100k_base.
    expect(countTokens("tiktoken is great!")).toBe(6);
    expect(countTokens("hello world")).toBe(2);
    expect(countTokens("")).toBe(0);
  });

  it("counts special-token spellings as ordinary text instead of throwing", () => {
    expect(countTokens("say <|endoftext|> please")).toBeGreaterThan(3);
  });

  it("adds a per-message overhead to the content of each message", () => {
    expect(countTokens([new HumanMessage("hello world")])).toBe(2 + MESSAGE_OVERHEAD_TOKENS);
    expect(countTokens([new HumanMessage("hello world"), new AIMessage("tiktoken is great!")])).toBe(8 + 2 * MESSAGE_OVERHEAD_TOKENS);
    expect(countTokens([])).toBe(0);
  });

  it("counts tool-call names and arguments, and tool results", () => {
    const bare = new AIMessage({ content: "" });
    const withCall = new AIMessage({
      content: "",
      tool_calls: [{ id: "c1", name: "get_weather", args: { city: "Reykjavik", unit: "celsius" } }],
    });
    const expected = countTokens('get_weather{"city":"Reykjavik","unit":"celsius"}');
    expect(countTokens([withCall]) - countTokens([bare])).toBe(expected);
    const result = new ToolMessage({ content: "4 degrees and windy", tool_call_id: "c1" });
    expect(countTokens([result])).toBe(countTokens("4 degrees and windy") + MESSAGE_OVERHEAD_TOKENS);
  });

  it("reads the text parts of multimodal content and skips images", () => {
    const message = new HumanMessage({
      content: [
        { type: "text", text: "what is in" },
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
        { type: "text", text: "this picture?" },
      ],
    });
    expect(messageText(message)).toBe("what is in\nthis picture?");
    expect(countTokens([message])).toBe(countTokens("what is in\nthis picture?") + MESSAGE_OVERHEAD_TOKENS);
  });

  it("recounts a message whose content changed (the cache is keyed on the content too)", () => {
    const message = new HumanMessage("short");
    const before = countTokens([message]);
    message.content = "a much longer message than it was before, with many more tokens in it";
    expect(countTokens([message])).toBeGreaterThan(before);
  });
});
