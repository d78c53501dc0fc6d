import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { tool } from "@langchain/core/tools";
import { MemorySaver } from "@langchain/langgraph";
import { createAgent } from "langchain";
import { z } from "zod";
import { isEngramError, type EngramErrorCode } from "../../core/errors.js";
import type { Memory } from "../../memory/memory.js";
import { testMemories } from "../../tests/memories.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { summarySection } from "../../tests/prompt_sections.js";
import { engramMiddleware } from "./middleware.js";
import type { EngramMiddlewareOptions } from "./options.js";

const memories = testMemories();
let made = 0;

async function memory(): Promise<Memory> {
  // Each test gets its own data folder and collections on the shared server.
  const name = `mw${made++}`;
  return memories.open(name, { prefix: name });
}

type Model = ConstructorParameters<typeof RecordingChatModel>[0];

function agent(m: Memory, model: RecordingChatModel, extra: Partial<EngramMiddlewareOptions> = {}, checkpointer = new MemorySaver()) {
  return createAgent({
    model,
    systemPrompt: "You are a concise assistant.",
    middleware: [engramMiddleware({ memory: m, onWarning: () => {}, ...extra })],
    checkpointer,
  });
}

function config(userId: string, threadId: string) {
  return { configurable: { user_id: userId, thread_id: threadId } };
}

function say(text: string) {
  return { messages: [new HumanMessage(text)] };
}

async function errorCode(promise: Promise<unknown>): Promise<EngramErrorCode | unknown> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  return isEngramError(error) ? error.code : error;
}

function recording(reply: Model = "Noted."): RecordingChatModel {
  return new RecordingChatModel(reply);
}

describe("engramMiddleware in createAgent, against a real Chroma server and the local embedding model", () => {
  it("a fact told in thread 1 reaches the system message in thread 2 of the same user, never another user's", async () => {
    const m = await memory();
    const model = recording();
    const a = agent(m, model);

    await a.invoke(say("Please remember this: my sister Maya's birthday is on March 14th."), config("alice", "alice-1"));
    await a.invoke(say("I'm allergic to peanuts, my doctor confirmed it last week."), config("bob", "bob-1"));

    await a.invoke(say("When is my sister's birthday?"), config("alice", "alice-2"));
    expect(model.lastSystem.startsWith("You are a concise assistant.")).toBe(true);
    expect(model.lastSystem).toContain("March 14th");
    expect(model.lastSystem).toContain("<recalled_memories>");
    expect(model.lastSystem).not.toContain("peanuts");
    // The new thread's messages hold only its own turn: the fact came through recall...
    expect(model.lastConversation).toEqual(["When is my sister's birthday?"]);
    // ...and nothing of it was written into the thread: the system message was changed for that call only.
    const thread = (await a.graph.getState(config("alice", "alice-2"))).values.messages as BaseMessage[];
    expect(thread.map((message) => message.getType())).toEqual(["human", "ai"]);
    expect(thread.map((message) => message.text).join(" ")).not.toContain("March 14th");

    await a.invoke(say("When is my sister's birthday? What am I allergic to?"), config("bob", "bob-2"));
    expect(model.lastSystem).toContain("peanuts");
    expect(model.lastSystem).not.toContain("Maya");
    expect(model.lastSystem).not.toContain("March 14th");
  });

  it("stores an important exchange as episodes of the thread's messages, and a mundane one not at all", async () => {
    const m = await memory();
    const model = recording("Okay!");
    const a = agent(m, model);
    const cfg = config("frank", "f-1");

    await a.invoke(say("ok thanks"), cfg);
    expect(await m.getAll({ userId: "frank" })).toEqual([]);

    await a.invoke(say("Remember this: my daughter Lena starts school in Zurich on August 19th."), cfg);
    const episodes = await m.getAll({ userId: "frank", kind: "episode" });
    expect(episodes.map((record) => record.role).sort()).toEqual(["assistant", "user"]);
    const told = episodes.find((record) => record.role === "user")!;
    expect(told.content).toContain("Lena");
    expect(told.source.threadId).toBe("f-1");
    const messages = (await a.graph.getState(cfg)).values.messages as BaseMessage[];
    expect(told.source.messageIds).toEqual([messages[2]!.id]);
    expect(episodes.find((record) => record.role === "assistant")!.source.messageIds).toEqual([messages[3]!.id]);
  });

  it("keeps the running summary in its state channel, checkpointed with the thread, and adds it to the system message", async () => {
    const m = await memory();
    const model = recording("Got it.");
    const saver = new MemorySaver();
    const a = agent(m, model, { window: { maxTurns: 2 } }, saver);
    const cfg = config("erin", "erin-long");

    await a.invoke(say("My favourite hiking trail is the Kungsleden in Lapland."), cfg);
    await a.invoke(say("Can you suggest a good rain jacket?"), cfg);
    expect(summarySection(model.lastSystem)).toBe("");
    await a.invoke(say("What about boots for wet ground?"), cfg);

    const state = (await a.graph.getState(cfg)).values;
    expect(state.engramSummary).toContain("Kungsleden");
    // The first turn left the thread: two turns of human + AI remain.
    expect(state.messages).toHaveLength(4);
    expect((state.messages as BaseMessage[]).map((message) => message.text).join(" ")).not.toContain("Kungsleden");

    // A new agent (new middleware) on the same checkpointer finds the summary in the thread's state.
    const later = recording("Sure.");
    await agent(m, later, { window: { maxTurns: 2 } }, saver).invoke(say("How long does the whole trail take?"), cfg);
    expect(summarySection(later.lastSystem)).toContain("Kungsleden");
    expect(later.lastConversation.join(" ")).not.toContain("Kungsleden");
  });

  it("adds the user's core blocks and learned instructions, and recalls on every model call of a tool loop", async () => {
    const m = await memory();
    await m.add("Name: Carol. Works as a nurse in Leeds.", { userId: "carol", kind: "procedure", metadata: { block: "human", limit: 500 } });
    await m.add("Answer in at most three sentences.", { userId: "carol", kind: "procedure" });
    await m.add("Dan is a pilot.", { userId: "dan", kind: "procedure", metadata: { block: "human", limit: 500 } });
    const weather = tool(async ({ city }) => `Rain in ${city}.`, {
      name: "weather",
      description: "Weather in a city.",
      schema: z.object({ city: z.string() }),
    });
    const model = fakeModel()
      .respondWithTools([{ name: "weather", args: { city: "Leeds" } }])
      .respond(new AIMessage("Take an umbrella."));
    const a = createAgent({
      model,
      tools: [weather],
      middleware: [engramMiddleware({ memory: m, onWarning: () => {} })],
      checkpointer: new MemorySaver(),
    });
    // The user from the context instead of the config.
    await a.invoke(say("What should I wear today?"), { configurable: { thread_id: "c-1" }, context: { userId: "carol" } });

    expect(model.calls).toHaveLength(2);
    for (const call of model.calls) {
      const system = call.messages.filter((message) => message.getType() === "system").map((message) => message.text).join("\n");
      expect(system).toContain("<human>\nName: Carol. Works as a nurse in Leeds.\n</human>");
      expect(system).toContain("Learned instructions:\n- Answer in at most three sentences.");
      expect(system).not.toContain("pilot");
    }
  });

  it("refuses a run without a user, or with two different users, before the model is called or anything is written", async () => {
    const m = await memory();
    const model = recording();
    const a = agent(m, model);
    const important = say("Remember this: my PIN is 4321.");
    expect(await errorCode(a.invoke(important, { configurable: { thread_id: "anon" } }))).toBe("INVALID_USER_ID");
    expect(await errorCode(a.invoke(important, { configurable: { thread_id: "anon", user_id: "" } }))).toBe("INVALID_USER_ID");
    expect(
      await errorCode(a.invoke(important, { configurable: { thread_id: "two", user_id: "gina" }, context: { userId: "hank" } })),
    ).toBe("INVALID_SCOPE");
    expect(model.calls).toHaveLength(0);
    expect(await m.getAll({ userId: "gina" })).toEqual([]);
    expect(await m.getAll({ userId: "hank" })).toEqual([]);

    expect(() => engramMiddleware({ memory: m, importanceThreshold: -1 })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    expect(() => engramMiddleware({ memory: m, window: { maxTurns: 0 } })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    expect(() => engramMiddleware({} as EngramMiddlewareOptions)).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
  });
});
