import { describe, expect, it, jest } from "@jest/globals";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { updateWorkingMemory } from "./working_memory.js";

class RecordingModel extends FakeListChatModel {
  readonly calls: BaseMessage[][] = [];

  override async _generate(messages: BaseMessage[], options?: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    this.calls.push(messages);
    return super._generate(messages, options, runManager);
  }
}

const system = new SystemMessage("You are a travel assistant.");
const lookup = new AIMessage({ content: "", tool_calls: [{ id: "f1", name: "flights", args: { to: "Lisbon" } }] });
const found = new ToolMessage({ content: "TP 123 at 9:40", tool_call_id: "f1" });
const conversation: BaseMessage[] = [
  system,
  new HumanMessage("hi"),
  new AIMessage("Hello! Where to?"),
  new HumanMessage("Remember that I'm vegetarian and my partner Jo hates early flights."),
  new AIMessage("Noted."),
  new HumanMessage("Flights to Lisbon on Friday?"),
  lookup,
  found,
  new AIMessage("TP 123 leaves at 9:40."),
  new HumanMessage("ok thanks"),
  new AIMessage("Anything else?"),
  new HumanMessage("A hotel near the river, please."),
];

describe("working memory example", () => {
  it("keeps the last three turns and the system message, and summarizes the rest without a model", async () => {
    jest.spyOn(console, "log").mockImplementation(() => undefined);
    const { window, summary } = await updateWorkingMemory(conversation, "");
    expect(window).toEqual([system, ...conversation.slice(5)]);
    expect(window).toContain(lookup);
    expect(window).toContain(found);
    expect(summary).toBe("user: Remember that I'm vegetarian and my partner Jo hates early flights.");
  });

  it("lets a model write the summary, and the evicted turns reach its prompt", async () => {
    jest.spyOn(console, "log").mockImplementation(() => undefined);
    const model = new RecordingModel({ responses: ["The user is vegetarian; their partner Jo hates early flights."] });
    const { summary } = await updateWorkingMemory(conversation, "The user lives in Porto.", model);
    expect(summary).toBe("The user is vegetarian; their partner Jo hates early flights.");
    const prompt = model.calls[0]![0]!.content as string;
    expect(prompt).toContain("The user lives in Porto.");
    expect(prompt).toContain("user: Remember that I'm vegetarian and my partner Jo hates early flights.");
    expect(prompt).not.toContain("Flights to Lisbon");
  });
});
