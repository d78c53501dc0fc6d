/**
 * engramMiddleware next to langchain's `summarizationMiddleware`: when a summary step inside a
 * run (a long tool loop) replaces the user's message with "Here is a summary of the conversation
 * to date: ..." (a human message, under the replaced message's id), that model-written summary is
 * not filed as what the user said. Real Memory on a real Chroma server; the model is a fake whose
 * prompts are recorded and checked.
 */
import { describe, expect, it } from "@jest/globals";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { MemorySaver } from "@langchain/langgraph";
import { createAgent, summarizationMiddleware } from "langchain";
import { z } from "zod";
import { testMemories } from "../../tests/memories.js";
import { runConfig, say } from "../../tests/runs.js";
import { engramMiddleware } from "./middleware.js";

const memories = testMemories();

/** Looks the weather up for three cities, one tool call at a time, then answers; writes summaries when asked to. */
class WeatherModel extends BaseChatModel {
  readonly prompts: string[] = [];

  constructor() {
    super({});
  }

  _llmType(): string {
    return "weather-fake";
  }

  override bindTools(): this {
    return this;
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const prompt = messages.map((message) => `${message.getType()}: ${message.text}`).join("\n");
    this.prompts.push(prompt);
    const looked = messages.filter((message) => message.getType() === "tool").length;
    const reply = prompt.includes("Context Extraction Assistant")
      ? new AIMessage("The user asked for the weather in Lisbon, Porto and Faro; Lisbon is sunny.")
      : looked < 2 && !prompt.includes("Porto is sunny")
        ? new AIMessage({ content: "", tool_calls: [{ id: `call-${this.prompts.length}`, name: "weather", args: { city: looked === 0 ? "Lisbon" : "Porto" } }] })
        : new AIMessage("It is sunny in all three cities.");
    return { generations: [{ text: reply.text, message: reply }] };
  }
}

describe("engramMiddleware with summarizationMiddleware", () => {
  it("a summary that replaced the user's message inside the run is not stored as what the user said", async () => {
    const m = memories.open("mw-summarization");
    const weather = tool(async ({ city }) => `${city} is sunny`, { name: "weather", description: "The weather in a city.", schema: z.object({ city: z.string() }) });
    const model = new WeatherModel();
    const agent = createAgent({
      model,
      tools: [weather],
      middleware: [summarizationMiddleware({ model, trigger: { messages: 4 }, keep: { messages: 2 } }), engramMiddleware({ memory: m, onWarning: () => {} })],
      checkpointer: new MemorySaver(),
    });

    const done = await agent.invoke(say("I'm planning a road trip with my sister Ana. How is the weather in Lisbon, Porto and Faro?"), runConfig("alice", "1"));
    // The summary step ran inside the run and the last model call answered from it.
    expect(model.prompts.some((prompt) => prompt.includes("Context Extraction Assistant"))).toBe(true);
    expect(model.prompts.at(-1)).toContain("human: Here is a summary of the conversation to date:");
    expect(model.prompts.at(-1)).not.toContain("human: I'm planning a road trip");
    expect(done.messages.at(-1)?.text).toBe("It is sunny in all three cities.");

    await m.flush();
    const stored = await m.getAll({ userId: "alice" });
    expect(stored.filter((record) => record.content.includes("Here is a summary of the conversation"))).toEqual([]);
  });
});
