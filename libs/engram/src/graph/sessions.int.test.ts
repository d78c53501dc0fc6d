import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { isEngramError } from "../core/errors.js";
import type { Memory } from "../memory/memory.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { createMemoryGraph, type MemoryGraphOptions } from "./agent.js";
import type { SessionEnd } from "./sessions.js";

const memories = testMemories();

function config(userId: string, threadId: string) {
  return { configurable: { user_id: userId, thread_id: threadId } };
}

function say(text: string) {
  return { messages: [new HumanMessage(text)] };
}

/**
 * A graph whose importance edge stores nothing (threshold 1: no turn reaches `remember`) and whose
 * window never evicts in these tests: what the session said stays only in the window, which is how
 * turns used to be lost when a session ended.
 */
function build(m: Memory, model: RecordingChatModel, extra: Partial<MemoryGraphOptions> = {}) {
  return createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), importanceThreshold: 1, onWarning: () => {}, ...extra });
}

const FACT = "My grandmother's old piano is a 1923 Steinway that I keep in Oslo.";

describe("ending a session consolidates its window (real Chroma server, local embeddings)", () => {
  it("turns still in the window when the session ends are recallable in a new thread after graph.endSession", async () => {
    const m = memories.open("end-explicit");
    const model = new RecordingChatModel("Noted.");
    const graph = build(m, model);
    const cfg = config("ana", "ana-1");
    await graph.invoke(say(FACT), cfg);
    await graph.invoke(say("Anyway, what's a good stretch for a stiff neck?"), cfg);

    // Before the end: the other thread cannot see the piano (nothing of the session was stored).
    await graph.invoke(say("Where do I keep my grandmother's piano?"), config("ana", "ana-probe-before"));
    expect(model.lastSystem).not.toContain("Steinway");
    expect(await m.getAll({ userId: "ana" })).toEqual([]);

    const end = await graph.endSession(cfg);
    expect(end).toMatchObject({ userId: "ana", threadId: "ana-1", reason: "explicit", episodes: 0 });
    expect(end.summarized).toBe(4);
    // The window left the thread's state and is folded into its summary, as an eviction does.
    const state = (await graph.getState(cfg)).values;
    expect(state.messages).toEqual([]);
    expect(state.summary).toContain("Steinway");
    const stored = await m.getAll({ userId: "ana" });
    expect(stored.map((r) => r.kind)).toEqual(["summary"]);
    expect(stored[0]!.source.threadId).toBe("ana-1");
    expect(stored[0]!.source.messageIds).toHaveLength(4);

    await graph.invoke(say("Where do I keep my grandmother's piano?"), config("ana", "ana-2"));
    expect(model.lastSystem).toContain("1923 Steinway");
    // Never another user's.
    await graph.invoke(say("Where do I keep my grandmother's piano?"), config("ben", "ben-1"));
    expect(model.lastSystem).not.toContain("Steinway");
  });

  it("a thread idle for idleMs has its session ended: its important turns stored as episodes, recallable in a new thread", async () => {
    const m = memories.open("end-idle");
    const model = new RecordingChatModel("Noted.");
    let ended: (end: SessionEnd) => void = () => {};
    const endedOnce = new Promise<SessionEnd>((resolve) => (ended = resolve));
    // The idle end scores with the graph's scorer and a threshold of its own choosing: 0 stores every exchange.
    const graph = createMemoryGraph({
      memory: m,
      model,
      checkpointer: new MemorySaver(),
      importanceThreshold: 0,
      // Long enough that the end never comes before the run's last checkpoint: the idle end looks
      // for it at most 4 times, idleMs apart (graph/sessions.ts), 120 ms in all at 30 ms, which a
      // loaded machine can exceed between the last node and its checkpoint.
      idleMs: 2_000,
      onSessionEnd: (end) => ended(end),
      onWarning: () => {},
    });
    const cfg = config("cleo", "cleo-1");
    // A turn the importance edge stores anyway (threshold 0), so the end must not store it twice.
    await graph.invoke(say(FACT), cfg);
    const end = await endedOnce;
    expect(end).toMatchObject({ userId: "cleo", threadId: "cleo-1", reason: "idle", episodes: 1 });
    const stored = await m.getAll({ userId: "cleo" });
    // One episode per message (human + reply), stored once; no summary record repeats them (a
    // turn is in long-term memory once: every exchange here is an episode, none is left to summarize).
    expect(stored.filter((r) => r.kind === "episode").map((r) => r.content).sort()).toEqual([FACT, "Noted."].sort());
    expect(stored.filter((r) => r.kind === "summary")).toHaveLength(0);
    expect(end.summarized).toBe(0);
    expect(end.summary).toContain("Steinway");

    graph.cancelIdle();
    await graph.invoke(say("Where is the piano kept?"), config("cleo", "cleo-2"));
    expect(model.lastSystem).toContain("1923 Steinway");
    graph.cancelIdle();
  });

  it("closing the Memory stops the graph's idle timers: none fires on the closed Memory (or keeps it alive until it would)", async () => {
    const m = memories.open("end-idle-closed");
    const warnings: string[] = [];
    const ends: SessionEnd[] = [];
    const graph = createMemoryGraph({
      memory: m,
      model: new RecordingChatModel("Noted."),
      checkpointer: new MemorySaver(),
      idleMs: 300,
      onSessionEnd: (end) => ends.push(end),
      onWarning: (message) => warnings.push(message),
    });
    await graph.invoke(say(FACT), config("dora", "dora-1"));
    await m.close();
    // A run that ends after the close arms no timer either.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect({ warnings, ends }).toEqual({ warnings: [], ends: [] });
  });

  it("the idle end waits for the run's last checkpoint: a checkpointer slower than idleMs does not make it read an older one", async () => {
    const m = memories.open("end-idle-slow-saver");
    const model = new RecordingChatModel("Noted.");
    /** Every checkpoint takes 300 ms to write, ten times the idle time. */
    class SlowSaver extends MemorySaver {
      override async put(...args: Parameters<MemorySaver["put"]>): ReturnType<MemorySaver["put"]> {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return super.put(...args);
      }
    }
    // The end either happens or fails with a warning (an end that read an older checkpoint fails
    // to remove messages the run already moved): either settles this.
    let ended: (end: SessionEnd) => void = () => {};
    let warned: (message: string) => void = () => {};
    const endedOnce = new Promise<SessionEnd>((resolve, reject) => {
      ended = resolve;
      warned = (message) => reject(new Error(message));
    });
    const graph = createMemoryGraph({
      memory: m,
      model,
      checkpointer: new SlowSaver(),
      importanceThreshold: 0,
      idleMs: 30,
      onSessionEnd: (end) => ended(end),
      onWarning: (message) => warned(message),
    });
    const cfg = config("gus", "gus-1");
    await graph.invoke(say(FACT), cfg);
    const end = await endedOnce;
    // The end read the run's final window (the human turn and the reply), stored once.
    expect(end).toMatchObject({ userId: "gus", threadId: "gus-1", reason: "idle", episodes: 1 });
    const stored = await m.getAll({ userId: "gus" });
    expect(stored.filter((r) => r.kind === "episode").map((r) => r.content).sort()).toEqual([FACT, "Noted."].sort());
    // And the window left the thread.
    expect(((await graph.getState(cfg)).values as { messages: unknown[] }).messages).toEqual([]);
    graph.cancelIdle();
  });

  it("an explicit end stops the idle timer; ending again finds an empty window and stores nothing new", async () => {
    const m = memories.open("end-idle-restart");
    const model = new RecordingChatModel("Noted.");
    const ends: SessionEnd[] = [];
    const graph = build(m, model, { idleMs: 60_000, onSessionEnd: (end) => ends.push(end) });
    const cfg = config("dev", "dev-1");
    await graph.invoke(say(FACT), cfg);
    await graph.invoke(say("And my cat is called Pixel."), cfg);
    // The explicit end stops the idle timer it would otherwise race with.
    const end = await graph.endSession(cfg);
    expect(end.summarized).toBe(4);
    expect(ends.map((e) => e.reason)).toEqual(["explicit"]);
    // Ending again finds an empty window and stores nothing new.
    const again = await graph.endSession(cfg);
    expect(again).toMatchObject({ episodes: 0, summarized: 0 });
    expect((await m.getAll({ userId: "dev" })).filter((r) => r.kind === "summary")).toHaveLength(1);
    graph.cancelIdle();
  });

  it("refuses an end it cannot do, before anything is written", async () => {
    const m = memories.open("end-refuse");
    const model = new RecordingChatModel("Noted.");
    const noCheckpointer = createMemoryGraph({ memory: m, model, onWarning: () => {} });
    const error = await noCheckpointer.endSession(config("eve", "eve-1")).catch((e: unknown) => e);
    expect(isEngramError(error) && error.code).toBe("INVALID_OPTIONS");
    const graph = build(m, model);
    const noThread = await graph.endSession({ configurable: { user_id: "eve" } }).catch((e: unknown) => e);
    expect(isEngramError(noThread) && noThread.code).toBe("INVALID_OPTIONS");
    const noUser = await graph.endSession({ configurable: { thread_id: "t" } }).catch((e: unknown) => e);
    expect(isEngramError(noUser) && noUser.code).toBe("INVALID_USER_ID");
    expect(() => build(m, model, { idleMs: -5 })).toThrow(/idleMs/);
    expect(await m.getAll({ userId: "eve" })).toEqual([]);
  });
});

describe("Memory.endSession", () => {
  it("stores the window's important exchanges as episodes and the others as one summary, once, however often the end is told", async () => {
    const m = memories.open("memory-end");
    const window = [
      new HumanMessage({ content: FACT, id: "h1" }),
      new AIMessage({ content: "What a lovely heirloom.", id: "a1" }),
      new HumanMessage({ content: "The weather is grey again today.", id: "h2" }),
      new AIMessage({ content: "Grey days are common in autumn.", id: "a2" }),
      new HumanMessage({ content: "ok", id: "h3" }),
      new AIMessage({ content: "ok", id: "a3" }),
    ];
    const first = await m.endSession({ userId: "fay", threadId: "fay-1", messages: window });
    // The weather and "ok" score 0 (no importance feature): only the piano exchange is an episode,
    // and the summary record covers the rest, not the piano again.
    expect(first.episodes).toBe(1);
    expect(first.summarized).toBe(4);
    expect(first.summary).toContain("Steinway");
    const stored = await m.getAll({ userId: "fay" });
    expect(stored.filter((r) => r.kind === "episode").map((r) => r.source.messageIds)).toEqual(expect.arrayContaining([["h1"], ["a1"]]));
    expect(stored.filter((r) => r.kind === "episode")).toHaveLength(2);
    const summaries = stored.filter((r) => r.kind === "summary");
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.source).toMatchObject({ threadId: "fay-1", messageIds: ["h2", "a2", "h3", "a3"] });
    expect(summaries[0]!.content).toContain("grey");
    expect(summaries[0]!.content).not.toContain("Steinway");

    await m.endSession({ userId: "fay", threadId: "fay-1", messages: window });
    expect(await m.getAll({ userId: "fay" })).toHaveLength(stored.length);
    const hits = await m.search("Where is the piano?", { userId: "fay", limit: 3 });
    expect(hits.map((h) => h.content).join("\n")).toContain("Steinway");

    expect(await m.endSession({ userId: "fay", threadId: "fay-2" })).toMatchObject({ episodes: 0, summarized: 0 });
    const bad = await m.endSession({ userId: "fay", threadId: "fay-3", messages: [{ role: "user", content: "x" }] as never }).catch((e: unknown) => e);
    expect(isEngramError(bad) && bad.code).toBe("INVALID_CONTENT");
    const noThread = await m.endSession({ userId: "fay" } as never).catch((e: unknown) => e);
    expect(isEngramError(noThread) && noThread.code).toBe("INVALID_SCOPE");
  });
});
