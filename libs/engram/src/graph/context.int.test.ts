/**
 * The graph's user check goes through LangGraph's public `context` schema, so every copy of the
 * compiled graph keeps it: `withConfig`, `withListeners` and use as a subgraph all refuse a run
 * without a user before the input checkpoint is written. Real savers (MemorySaver and SqliteSaver),
 * real Memory on a real Chroma server; the model is a recording fake.
 */
import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { END, MemorySaver, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { isEngramError } from "../core/errors.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { createMemoryGraph } from "./agent.js";
import { MemoryContext } from "./context.js";
import { MemoryState } from "./state.js";

const memories = testMemories();

const say = (text: string) => ({ messages: [new HumanMessage(text)] });

async function checkpoints(saver: BaseCheckpointSaver): Promise<number> {
  let count = 0;
  for await (const _tuple of saver.list({})) count += 1;
  return count;
}

async function errorOf(run: Promise<unknown>): Promise<unknown> {
  return run.then(() => undefined, (error: unknown) => error);
}

const SAVERS: Array<[string, () => BaseCheckpointSaver]> = [
  ["MemorySaver", () => new MemorySaver()],
  ["SqliteSaver", () => SqliteSaver.fromConnString(":memory:")],
];

describe.each(SAVERS)("the memory graph refuses a run without a user and writes no checkpoint (%s)", (saverName, makeSaver) => {
  it("the graph itself, withConfig, withListeners: INVALID_USER_ID, no model call, no checkpoint", async () => {
    const m = memories.open(`copies-${saverName}`, { prefix: `copies${saverName}` });
    const model = new RecordingChatModel("ok");
    const saver = makeSaver();
    const graph = createMemoryGraph({ memory: m, model, checkpointer: saver, onWarning: () => {} });
    const copies: Array<[string, { invoke(input: unknown, config?: RunnableConfig): Promise<unknown> }]> = [
      ["graph", graph],
      ["withConfig", graph.withConfig({ recursionLimit: 30 })],
      ["withListeners", graph.withListeners({ onStart: () => {} })],
      ["withConfig then withListeners", graph.withConfig({ tags: ["t"] }).withListeners({ onEnd: () => {} })],
    ];
    for (const [name, copy] of copies) {
      for (const configurable of [{ thread_id: `${name}-none` }, { thread_id: `${name}-empty`, user_id: "" }, { thread_id: `${name}-op`, user_id: { $ne: "x" } }]) {
        const error = await errorOf(copy.invoke(say("Remember this: my PIN is 4321."), { configurable }));
        expect([name, isEngramError(error) && error.code]).toEqual([name, "INVALID_USER_ID"]);
      }
      // A run whose context names no user (and is not empty) is refused the same way.
      const error = await errorOf(copy.invoke(say("hello"), { configurable: { thread_id: `${name}-ctx` }, context: { locale: "fr" } } as RunnableConfig));
      expect([name, isEngramError(error) && error.code]).toEqual([name, "INVALID_USER_ID"]);
    }
    expect((await errorOf(graph.invoke(say("x"), { configurable: { thread_id: "m" } }))) as Error).toHaveProperty(
      "message",
      expect.stringContaining("config.configurable.user_id"),
    );
    expect(model.calls).toHaveLength(0);
    expect(await checkpoints(saver)).toBe(0);
    expect(await m.getAll({ userId: "alice" })).toEqual([]);

    // The same copies serve a run that names its user: in configurable, or in the run's context.
    await graph.withConfig({ recursionLimit: 30 }).invoke(say("My cat is called Pixel."), { configurable: { user_id: "alice", thread_id: "ok-1" } });
    await graph.withListeners({ onStart: () => {} }).invoke(say("Hello again."), { configurable: { thread_id: "ok-2" }, context: { userId: "alice" } } as RunnableConfig);
    // An empty context (the LangGraph server passes one with every run) leaves the user to configurable.
    await graph.invoke(say("And my dog is Rex."), { configurable: { user_id: "alice", thread_id: "ok-3" }, context: {} } as RunnableConfig);
    expect(model.calls).toHaveLength(3);
    expect(await checkpoints(saver)).toBeGreaterThan(0);
    expect((await graph.getState({ configurable: { thread_id: "ok-2" } })).values.messages).toHaveLength(2);
  });

  it("an empty context and no user anywhere: refused before memory or the model is reached; LangGraph has saved the input in the thread (a documented limit)", async () => {
    const m = memories.open(`empty-${saverName}`, { prefix: `empty${saverName}` });
    const model = new RecordingChatModel("ok");
    const saver = makeSaver();
    const graph = createMemoryGraph({ memory: m, model, checkpointer: saver, onWarning: () => {} });
    const error = await errorOf(graph.invoke(say("Remember this: my PIN is 4321."), { configurable: { thread_id: "e-1" }, context: {} } as RunnableConfig));
    expect(isEngramError(error) && error.code).toBe("INVALID_USER_ID");
    expect(model.calls).toHaveLength(0);
    // LangGraph shows the context schema the context alone when a run passes one (the LangGraph
    // server passes {} with every run), so the recall node refuses, after LangGraph has saved the
    // input and the step that applied it (docs/graph.md). The day LangGraph checks configurable
    // for an empty context, this fails: the docs' limit is then gone.
    const written: string[] = [];
    for await (const tuple of saver.list({})) written.push(String(tuple.metadata?.source));
    expect(written.sort()).toEqual(["input", "loop"]);
    const kept = (await graph.getState({ configurable: { thread_id: "e-1" } })).values;
    expect(kept.messages.map((message: HumanMessage) => message.getType())).toEqual(["human"]);
    expect(kept.recalled).toEqual([]);
  });

  it("as a subgraph of a graph of your own: the subgraph refuses, and writes no checkpoint of its own", async () => {
    const m = memories.open(`subgraph-${saverName}`, { prefix: `sub${saverName}` });
    const model = new RecordingChatModel("ok");
    const saver = makeSaver();
    const memoryGraph = createMemoryGraph({ memory: m, model, onWarning: () => {} });
    const parent = new StateGraph(MemoryState).addNode("memory", memoryGraph).addEdge(START, "memory").addEdge("memory", END).compile({ checkpointer: saver });
    const error = await errorOf(parent.invoke(say("Remember this: my PIN is 4321."), { configurable: { thread_id: "p-1" } }));
    expect(isEngramError(error) && error.code).toBe("INVALID_USER_ID");
    expect(model.calls).toHaveLength(0);
    // The parent has no check of its own and saved its input; nothing is in the subgraph's namespace.
    const namespaces = new Set<string>();
    for await (const tuple of saver.list({})) namespaces.add(String(tuple.config.configurable?.checkpoint_ns ?? ""));
    expect([...namespaces]).toEqual([""]);

    // A parent built on Engram's context schema refuses before it writes anything at all.
    const guardedSaver = makeSaver();
    const guarded = new StateGraph({ state: MemoryState, context: MemoryContext })
      .addNode("memory", memoryGraph)
      .addEdge(START, "memory")
      .addEdge("memory", END)
      .compile({ checkpointer: guardedSaver });
    const refused = await errorOf(guarded.invoke(say("Remember this: my PIN is 4321."), { configurable: { thread_id: "p-2" } }));
    expect(isEngramError(refused) && refused.code).toBe("INVALID_USER_ID");
    expect(await checkpoints(guardedSaver)).toBe(0);

    // With a user, the subgraph runs its turn for that user.
    await guarded.invoke(say("My cat is called Pixel."), { configurable: { thread_id: "p-3", user_id: "bea" } });
    expect(model.calls).toHaveLength(1);
    expect(await checkpoints(guardedSaver)).toBeGreaterThan(0);
  });
});
