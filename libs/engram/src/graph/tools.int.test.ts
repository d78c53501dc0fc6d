/**
 * A model that calls tools in `createMemoryGraph`. Before, the graph had no tool step: the reply's
 * tool calls were never run, the user got an empty answer, and the unanswered call stayed in the
 * thread, which providers refuse on every later turn. Now `tools` are run and the model called
 * again with their results; without `tools` such a reply is refused before it is in the thread.
 * Real Memory on a real Chroma server; the model is a fake whose prompts are recorded and checked.
 */
import { describe, expect, it } from "@jest/globals";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { Command, interrupt, MemorySaver } from "@langchain/langgraph";
import { z } from "zod";
import { testMemories } from "../tests/memories.js";
import { codeOf, runConfig, say } from "../tests/runs.js";
import { createMemoryGraph } from "./agent.js";

const memories = testMemories();

/** Looks the weather up once per question (a tool call), then answers from the tool's result. */
class WeatherModel extends BaseChatModel {
  readonly prompts: BaseMessage[][] = [];
  bound: string[] = [];

  constructor() {
    super({});
  }

  _llmType(): string {
    return "weather-fake";
  }

  override bindTools(tools: { name: string }[]): this {
    this.bound = tools.map((t) => t.name);
    return this;
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.prompts.push(messages);
    const last = messages[messages.length - 1]!;
    const reply =
      last.getType() === "tool"
        ? new AIMessage(`The forecast says: ${last.text}.`)
        : new AIMessage({ content: "", tool_calls: [{ id: `call-${this.prompts.length}`, name: "weather", args: { city: "Porto" } }] });
    return { generations: [{ text: reply.text, message: reply }] };
  }
}

const weather = tool(async ({ city }) => `rain in ${city} on Friday`, {
  name: "weather",
  description: "The forecast for a city.",
  schema: z.object({ city: z.string() }),
});

describe("createMemoryGraph with a model that calls tools", () => {
  it("runs the tools and calls the model again with the results; the next turn's prompt has every call answered", async () => {
    const m = memories.open("graph-tools");
    await m.add("The user's sister Ana lives in Porto.", { userId: "alice", kind: "fact" });
    const model = new WeatherModel();
    const graph = createMemoryGraph({ memory: m, model, tools: [weather], checkpointer: new MemorySaver(), onWarning: () => {} });
    const cfg = runConfig("alice", "1");

    const first = await graph.invoke(say("I'm visiting my sister next Friday. What will the weather be like there?"), cfg);
    expect(model.bound).toEqual(["weather"]);
    expect(first.messages.at(-1)?.text).toBe("The forecast says: rain in Porto on Friday.");
    // The second model call had the tool's result, and the recalled memory in its system prompt.
    expect(model.prompts).toHaveLength(2);
    expect(model.prompts[1]!.map((message) => message.getType())).toEqual(["system", "human", "ai", "tool"]);
    expect(model.prompts[1]![0]!.text).toContain("Ana lives in Porto");

    await graph.invoke(say("Should I pack an umbrella for the trip to my sister?"), cfg);
    const next = model.prompts[2]!;
    const called = next.flatMap((message) => (message as AIMessage).tool_calls ?? []).map((call) => call.id);
    const answered = next.filter((message) => message.getType() === "tool").map((message) => (message as { tool_call_id?: string }).tool_call_id);
    expect(called).toEqual(["call-1"]);
    expect(answered).toEqual(called);

    await m.flush();
    const episodes = (await m.getAll({ userId: "alice", kind: "episode" })).map((record) => record.content);
    expect(episodes).toContain("The forecast says: rain in Porto on Friday.");
  });

  it("without tools, a reply that calls one is refused before it is in the thread, which keeps working", async () => {
    const m = memories.open("graph-no-tools");
    const model = new WeatherModel();
    const graph = createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), onWarning: () => {} });
    const cfg = runConfig("bob", "2");

    expect(await codeOf(graph.invoke(say("What will the weather be like in Porto on Friday?"), cfg))).toBe("INVALID_OPTIONS");
    const messages = (await graph.getState(cfg)).values.messages as BaseMessage[];
    expect(messages.filter((message) => ((message as AIMessage).tool_calls ?? []).length > 0)).toEqual([]);
    await m.flush();
    expect(await m.getAll({ userId: "bob" })).toEqual([]);
  });

  it("a tool paused by interrupt() runs only on its thread owner's resume; another user's resume is refused before it", async () => {
    const m = memories.open("graph-tools-resume");
    const asked: string[] = [];
    const guarded = tool(
      async ({ city }) => {
        asked.push(interrupt({ question: `Look up ${city}?` }) as string);
        return `rain in ${city} on Friday`;
      },
      { name: "weather", description: "The forecast for a city, after a person agrees.", schema: z.object({ city: z.string() }) },
    );
    const model = new WeatherModel();
    const graph = createMemoryGraph({ memory: m, model, tools: [guarded], checkpointer: new MemorySaver(), onWarning: () => {} });

    await graph.invoke(say("My bank PIN is 4711. What will the weather be like in Porto on Friday?"), runConfig("carol", "3"));
    expect((await graph.getState(runConfig("carol", "3"))).next).toEqual(["tools"]);

    expect(await codeOf(graph.invoke(new Command({ resume: "yes, says dan" }), runConfig("dan", "3")))).toBe("INVALID_SCOPE");
    expect(asked).toEqual([]);
    expect(model.prompts).toHaveLength(1);
    await m.flush();
    expect(await m.getAll({ userId: "dan" })).toEqual([]);

    const done = await graph.invoke(new Command({ resume: "yes" }), runConfig("carol", "3"));
    expect(asked).toEqual(["yes"]);
    expect(done.messages.at(-1)?.text).toBe("The forecast says: rain in Porto on Friday.");
  });

  it("refuses a tools option that is not a list of tools when the graph is built", async () => {
    const m = memories.open("graph-bad-tools");
    const model = new WeatherModel();
    const build = (tools: unknown) => codeOf(Promise.resolve().then(() => createMemoryGraph({ memory: m, model, tools: tools as never })));
    expect(await build(weather)).toBe("INVALID_OPTIONS");
    expect(await build([{ name: "weather" }])).toBe("INVALID_OPTIONS");
    expect(await build([weather])).toBe("no error");
  });
});
