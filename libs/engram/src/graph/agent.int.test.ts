import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { isEngramError } from "../core/errors.js";
import type { Memory } from "../memory/memory.js";
import { freePort } from "../store/chroma_server.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { summarySection } from "../tests/prompt_sections.js";
import { createMemoryGraph, type MemoryGraphOptions } from "./agent.js";

const memories = testMemories();

function memory(name: string, url = memories.chroma.server.url): Memory {
  return memories.open(name, { chroma: { url } });
}

function config(userId: string, threadId: string) {
  return { configurable: { user_id: userId, thread_id: threadId } };
}

function say(text: string) {
  return { messages: [new HumanMessage(text)] };
}

function build(m: Memory, model: RecordingChatModel, extra: Partial<MemoryGraphOptions> = {}) {
  return createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), onWarning: () => {}, ...extra });
}

describe("createMemoryGraph against a real Chroma server and the local embedding model", () => {
  it("a fact told in one thread reaches the model in another thread of the same user, never another user's", async () => {
    const m = memory("cross-thread");
    const model = new RecordingChatModel("Noted.");
    const graph = build(m, model);

    await graph.invoke(say("Please remember this: my sister Maya's birthday is on March 14th."), config("alice", "alice-1"));
    await graph.invoke(say("I'm allergic to peanuts, my doctor confirmed it last week."), config("bob", "bob-1"));

    await graph.invoke(say("When is my sister's birthday?"), config("alice", "alice-2"));
    expect(model.lastSystem).toContain("March 14th");
    expect(model.lastSystem).not.toContain("peanuts");
    // The new thread's window holds only its own turn: the fact came through recall.
    expect(model.lastConversation).toEqual(["When is my sister's birthday?"]);

    await graph.invoke(say("When is my sister's birthday? And what am I allergic to?"), config("bob", "bob-2"));
    expect(model.lastSystem).toContain("peanuts");
    expect(model.lastSystem).not.toContain("Maya");
    expect(model.lastSystem).not.toContain("March 14th");
  });

  it("renders the user's core blocks and learned instructions into the system prompt", async () => {
    const m = memory("procedures");
    await m.add("Name: Carol. Works as a nurse in Leeds.", { userId: "carol", kind: "procedure", metadata: { block: "human", limit: 500 } });
    await m.add("Answer in at most three sentences.", { userId: "carol", kind: "procedure" });
    await m.add("Dan is a pilot.", { userId: "dan", kind: "procedure", metadata: { block: "human", limit: 500 } });
    const model = new RecordingChatModel("Sure.");
    const graph = build(m, model);
    await graph.invoke(say("What should I cook tonight?"), config("carol", "c-1"));
    expect(model.lastSystem).toContain("<human>\nName: Carol. Works as a nurse in Leeds.\n</human>");
    expect(model.lastSystem).toContain("Learned instructions:\n- Answer in at most three sentences.");
    expect(model.lastSystem).not.toContain("pilot");
  });

  it("folds evicted turns into the summary in the prompt, removes them from the state and stores the unimportant ones as a summary record with its source", async () => {
    const m = memory("summary");
    const model = new RecordingChatModel("Got it.");
    const graph = build(m, model, { window: { maxTurns: 2 } });
    const cfg = config("erin", "erin-long");

    await graph.invoke(say("My favourite hiking trail is the Kungsleden in Lapland."), cfg);
    const firstTurnIds = (await graph.getState(cfg)).values.messages.map((message: { id?: string }) => message.id);
    expect(summarySection(model.lastSystem)).toBe("");
    await graph.invoke(say("Can you suggest a good rain jacket?"), cfg);
    const secondTurnIds = (await graph.getState(cfg)).values.messages.slice(2).map((message: { id?: string }) => message.id);
    await graph.invoke(say("What about boots for wet ground?"), cfg);

    const state = (await graph.getState(cfg)).values;
    expect(state.summary).toContain("Kungsleden");
    // Two turns kept (human + AI each); the first turn's messages left the state.
    expect(state.messages).toHaveLength(4);
    expect(state.messages.map((message: { id?: string }) => message.id)).not.toContain(firstTurnIds[0]);

    await graph.invoke(say("How long does the whole trail take?"), cfg);
    expect(summarySection(model.lastSystem)).toContain("Kungsleden");
    expect(model.lastConversation.join(" ")).not.toContain("Kungsleden");

    // The first turn (a preference) is an episode already: no summary record repeats it. The
    // second (a question that says nothing about Erin) reaches long-term memory in a summary record.
    const summaries = await m.getAll({ userId: "erin", kind: "summary" });
    expect(summaries.filter((record) => record.content.includes("Kungsleden"))).toEqual([]);
    const episodes = await m.getAll({ userId: "erin", kind: "episode" });
    expect(episodes.find((record) => record.content.includes("Kungsleden"))?.source.messageIds).toEqual([firstTurnIds[0]]);
    const second = summaries.find((record) => record.content.includes("rain jacket"));
    expect(second?.source.threadId).toBe("erin-long");
    expect(second?.source.messageIds).toEqual(secondTurnIds);
  });

  it("the importance edge routes small talk past remember and an important turn through it", async () => {
    const m = memory("edge");
    const model = new RecordingChatModel("Okay!");
    const graph = build(m, model);
    const cfg = config("frank", "f-1");

    const visited = async (text: string): Promise<string[]> => {
      const nodes: string[] = [];
      for await (const update of await graph.stream(say(text), { ...cfg, streamMode: "updates" })) nodes.push(...Object.keys(update));
      return nodes;
    };

    expect(await visited("ok thanks")).toEqual(["recall", "model", "score", "consolidate"]);
    expect(await m.getAll({ userId: "frank", kind: "episode" })).toEqual([]);

    expect(await visited("Remember this: my daughter Lena starts school in Zurich on August 19th.")).toEqual([
      "recall",
      "model",
      "score",
      "remember",
      "consolidate",
    ]);
    const episodes = await m.getAll({ userId: "frank", kind: "episode" });
    expect(episodes.map((record) => record.role).sort()).toEqual(["assistant", "user"]);
    const told = episodes.find((record) => record.role === "user")!;
    expect(told.content).toContain("Lena");
    expect(told.importance).toBeGreaterThanOrEqual(0.3);
    expect(told.source.threadId).toBe("f-1");
    const state = (await graph.getState(cfg)).values;
    const humanIds = state.messages.filter((message: HumanMessage) => message.getType() === "human").map((message: HumanMessage) => message.id);
    expect(told.source.messageIds).toEqual([humanIds[1]]);
  });

  it("runs forgetting for the user every forgetEvery turns: a near-duplicate is merged on the second turn, not the first", async () => {
    const m = memory("forget-every");
    await m.add("Hana's favourite tea is genmaicha.", { userId: "hana", kind: "fact" });
    await m.add("Hana's favourite tea is genmaicha!", { userId: "hana", kind: "fact" });
    const graph = build(m, new RecordingChatModel("Okay."), { forgetEvery: 2 });
    const cfg = config("hana", "h-1");

    await graph.invoke(say("hi"), cfg);
    expect((await graph.getState(cfg)).values.turnsSinceForget).toBe(1);
    expect(await m.getAll({ userId: "hana", kind: "fact" })).toHaveLength(2);

    await graph.invoke(say("hello again"), cfg);
    expect((await graph.getState(cfg)).values.turnsSinceForget).toBe(0);
    // The pass runs off the turn; flush() waits for it.
    await m.flush();
    const facts = await m.getAll({ userId: "hana", kind: "fact" });
    expect(facts).toHaveLength(1);
  });

  it("refuses a run without a user before anything is written, to the store or the thread", async () => {
    const m = memory("no-user");
    const model = new RecordingChatModel();
    const graph = build(m, model);
    const error = await graph
      .invoke(say("Remember this: my PIN is 4321."), { configurable: { thread_id: "anon" } })
      .then(() => undefined, (e: unknown) => e);
    expect(isEngramError(error, "INVALID_USER_ID")).toBe(true);
    expect((error as Error).message).toContain("config.configurable.user_id");
    expect(model.calls).toHaveLength(0);
    expect((await graph.getState({ configurable: { thread_id: "anon" } })).values).toEqual({});
  });

  it("with the store down, answers from the window and the summary with a warning, and keeps the turn in the outbox", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const m = memory("outage", dead);
    const warnings: string[] = [];
    const model = new RecordingChatModel("Answered without long-term memory.");
    const graph = build(m, model, { onWarning: (message) => warnings.push(message) });
    const result = await graph.invoke(say("Remember this: my passport expires in May 2027."), config("gina", "g-1"));
    expect(result.messages.at(-1)?.text).toBe("Answered without long-term memory.");
    expect(warnings.join(" ")).toMatch(/Recall failed/);
    expect(model.lastConversation).toEqual(["Remember this: my passport expires in May 2027."]);
    // The exchange waits in the durable outbox: a Memory on the same data folder, with the store
    // back, replays it.
    await m.close();
    const replay = memory("outage");
    expect((await replay.flush()).applied).toBeGreaterThan(0);
    const hits = await replay.search("When does my passport expire?", { userId: "gina" });
    expect(hits[0]?.content).toContain("May 2027");
  });
});
