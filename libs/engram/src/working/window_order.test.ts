import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { selectWindow } from "./window.js";

// A tool result stored ahead of its call (a history ordered by two writers' clocks) was paired
// with nothing: the window kept the call's turn and evicted the result's, and the prompt held a
// tool call without its result, which providers refuse.
describe("selectWindow with a tool result stored before its call", () => {
  const early = new ToolMessage({ content: "found it", tool_call_id: "k1" });
  const call = new AIMessage({ content: "", tool_calls: [{ id: "k1", name: "search", args: { q: "x" } }] });
  const messages: BaseMessage[] = [
    new HumanMessage("first"),
    early,
    new HumanMessage("second"),
    call,
    new AIMessage("done"),
    new HumanMessage("third"),
    new AIMessage("ok"),
  ];

  it("keeps or evicts the call and its result together", () => {
    for (const maxTurns of [1, 2, 3]) {
      const { kept } = selectWindow(messages, { maxTurns });
      expect(kept.includes(call)).toBe(kept.includes(early));
    }
    // Two turns would cut between the result and its call: the joined turns leave together.
    expect(selectWindow(messages, { maxTurns: 2 }).kept).toEqual(messages.slice(5));
    expect(selectWindow(messages, { maxTurns: 3 }).kept).toEqual(messages);
  });

  it("pairs a reused call id with its own result, not an earlier call's", () => {
    const first = [new HumanMessage("a"), new AIMessage({ content: "", tool_calls: [{ id: "c", name: "s", args: {} }] }), new ToolMessage({ content: "1", tool_call_id: "c" })];
    const second = [new HumanMessage("b"), new AIMessage({ content: "", tool_calls: [{ id: "c", name: "s", args: {} }] }), new ToolMessage({ content: "2", tool_call_id: "c" })];
    expect(selectWindow([...first, ...second], { maxTurns: 1 }).kept).toEqual(second);
  });
});
