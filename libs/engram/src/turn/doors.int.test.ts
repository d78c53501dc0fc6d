/**
 * One turn, many doors: the same bad option or the same missing or bad user gets the same
 * EngramError code from every door (the graph, its nodes, the middleware, EngramMemory, the tools,
 * the retriever, the checkpointer), and nothing is read or written. Real Memory on a real Chroma
 * server; the model is a recording fake that must never be called.
 */
import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { emptyCheckpoint, MemorySaver } from "@langchain/langgraph-checkpoint";
import { createAgent } from "langchain";
import { EngramCheckpointer } from "../adapters/checkpointer/checkpointer.js";
import { EngramMemory } from "../adapters/base_memory/engram_memory.js";
import { EngramChatMessageHistory } from "../adapters/chat_history/history.js";
import type { EngramChatMessageHistoryOptions } from "../adapters/chat_history/options.js";
import type { EngramMemoryOptions } from "../adapters/base_memory/options.js";
import { engramMiddleware } from "../adapters/middleware/middleware.js";
import type { EngramMiddlewareOptions } from "../adapters/middleware/options.js";
import { EngramRetriever } from "../adapters/retriever/retriever.js";
import { createMemoryTools } from "../adapters/tools/memory_tools.js";
import { isEngramError, type EngramErrorCode } from "../core/errors.js";
import { createMemoryGraph, type MemoryGraphOptions } from "../graph/agent.js";
import { createConsolidateNode } from "../graph/nodes/consolidate.js";
import { createRecallNode } from "../graph/nodes/recall.js";
import type { Memory } from "../memory/memory.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { MemoryContext } from "./run_context.js";

const memories = testMemories();

async function codeOf(run: () => unknown): Promise<EngramErrorCode | "accepted" | string> {
  try {
    await run();
    return "accepted";
  } catch (error) {
    return isEngramError(error) ? error.code : `not an EngramError: ${(error as Error)?.name}: ${(error as Error)?.message}`;
  }
}

/** The options every turn door takes, each with the bad values that must be refused. */
const BAD_TURN_OPTIONS: Array<[string, Record<string, unknown>]> = [
  ["recallLimit -1", { recallLimit: -1 }],
  ["recallLimit 0", { recallLimit: 0 }],
  ["recallLimit 101", { recallLimit: 101 }],
  ["recallLimit 2.5", { recallLimit: 2.5 }],
  ["recallLimit '5'", { recallLimit: "5" }],
  ["forgetEvery -3", { forgetEvery: -3 }],
  ["forgetEvery 1.5", { forgetEvery: 1.5 }],
  ["forgetEvery NaN", { forgetEvery: Number.NaN }],
  ["window.maxTurns -2", { window: { maxTurns: -2 } }],
  ["window.maxTurns 0", { window: { maxTurns: 0 } }],
  ["window.maxTokens 0", { window: { maxTokens: 0 } }],
  ["window 'big'", { window: "big" }],
  ["importanceThreshold -0.1", { importanceThreshold: -0.1 }],
  ["importanceThreshold 2", { importanceThreshold: 2 }],
  ["importanceThreshold NaN", { importanceThreshold: Number.NaN }],
  ["summaryMaxTokens 0", { summaryMaxTokens: 0 }],
  ["summaryMaxTokens -5", { summaryMaxTokens: -5 }],
  ["scorer {}", { scorer: {} }],
  ["summaryModel 'gpt'", { summaryModel: "gpt" }],
  ["onWarning 'console'", { onWarning: "console" }],
  ["memory missing", { memory: undefined }],
  ["memory {}", { memory: {} }],
];

/** The options EngramChatMessageHistory takes of the turn's (it recalls nothing and does not forget). */
const CHAT_HISTORY_OPTIONS = new Set(["window", "importanceThreshold", "summaryMaxTokens", "scorer", "summaryModel", "onWarning", "memory"]);

/** The doors that run turns, each built with the same options (plus what the door itself requires). */
function turnDoors(m: Memory, bad: Record<string, unknown> = {}): Array<[string, (bad: Record<string, unknown>) => unknown]> {
  const model = new RecordingChatModel("never called");
  const chatHistory: Array<[string, (bad: Record<string, unknown>) => unknown]> = Object.keys(bad).every((key) => CHAT_HISTORY_OPTIONS.has(key))
    ? [["EngramChatMessageHistory", (options) => new EngramChatMessageHistory({ memory: m, userId: "alice", threadId: "t", onWarning: () => {}, ...options } as EngramChatMessageHistoryOptions)]]
    : [];
  return [
    ...chatHistory,
    ["createMemoryGraph", (bad) => createMemoryGraph({ memory: m, model, onWarning: () => {}, ...bad } as MemoryGraphOptions)],
    ["engramMiddleware", (bad) => engramMiddleware({ memory: m, onWarning: () => {}, ...bad } as EngramMiddlewareOptions)],
    ["EngramMemory", (bad) => new EngramMemory({ memory: m, userId: "alice", onWarning: () => {}, ...bad } as EngramMemoryOptions)],
  ];
}

describe("every door refuses the same bad options with the same code, when it is built", () => {
  it.each(BAD_TURN_OPTIONS)("%s: INVALID_OPTIONS from the graph, the middleware and EngramMemory", async (_name, bad) => {
    const m = memories.open("options");
    for (const [door, build] of turnDoors(m, bad)) {
      expect([door, await codeOf(() => build(bad))]).toEqual([door, "INVALID_OPTIONS"]);
    }
  });

  it("the same good options are accepted by each of them", async () => {
    const m = memories.open("options-good");
    const good = { recallLimit: 100, forgetEvery: 0, window: { maxTurns: 2, maxTokens: 500 }, importanceThreshold: 1, summaryMaxTokens: 50 };
    // The chat history takes the options it has (no recall, no forgetting): the others it refuses by name.
    const own = Object.fromEntries(Object.entries(good).filter(([key]) => CHAT_HISTORY_OPTIONS.has(key)));
    for (const [door, build] of turnDoors(m)) {
      expect([door, await codeOf(() => build(door === "EngramChatMessageHistory" ? own : good))]).toEqual([door, "accepted"]);
    }
  });

  it("the graph's own nodes check the options they take with the same codes", async () => {
    const m = memories.open("options-nodes");
    expect(await codeOf(() => createRecallNode({ memory: m, limit: -1 }))).toBe("INVALID_OPTIONS");
    expect(await codeOf(() => createRecallNode({ memory: m, kinds: ["memo" as never] }))).toBe("INVALID_OPTIONS");
    expect(await codeOf(() => createConsolidateNode({ memory: m, forgetEvery: -3 }))).toBe("INVALID_OPTIONS");
    expect(await codeOf(() => createConsolidateNode({ memory: m, window: { maxTurns: -2 } }))).toBe("INVALID_OPTIONS");
    const model = new RecordingChatModel("never called");
    expect(await codeOf(() => createMemoryGraph({ memory: m, model: "gpt-4" as never }))).toBe("INVALID_OPTIONS");
    expect(await codeOf(() => createMemoryGraph({ memory: m, model, systemPrompt: 42 as never }))).toBe("INVALID_OPTIONS");
  });

  it("a memory that is missing is INVALID_OPTIONS at every door, the non-turn ones included", async () => {
    const doors: Array<[string, () => unknown]> = [
      ["createMemoryTools", () => createMemoryTools({} as never)],
      ["EngramRetriever", () => new EngramRetriever({} as never)],
      ["EngramCheckpointer", () => new EngramCheckpointer({} as never)],
    ];
    for (const [door, build] of doors) expect([door, await codeOf(build)]).toEqual([door, "INVALID_OPTIONS"]);
  });

  it("an option renamed so one name means one thing is refused under its old name, not ignored", async () => {
    const m = memories.open("options-renamed");
    const summaryModel = new RecordingChatModel("summary");
    expect(await codeOf(() => engramMiddleware({ memory: m, model: summaryModel } as never))).toBe("INVALID_OPTIONS");
    expect(await codeOf(() => new EngramMemory({ memory: m, userId: "a", model: summaryModel } as never))).toBe("INVALID_OPTIONS");
    expect(await codeOf(() => new EngramChatMessageHistory({ memory: m, userId: "a", model: summaryModel } as never))).toBe("INVALID_OPTIONS");
    expect(await codeOf(() => new EngramChatMessageHistory({ memory: m, userId: "a", summaryModel }))).toBe("accepted");
  });
});

/** Runs that name no usable user: missing, empty, an operator object, a number. */
const BAD_USERS: Array<[string, Record<string, unknown>]> = [
  ["no user", {}],
  ["empty user", { user_id: "" }],
  ["operator object", { user_id: { $ne: "x" } }],
  ["number", { user_id: 42 }],
];

function run(user: Record<string, unknown>, thread: string): RunnableConfig {
  return { configurable: { thread_id: thread, ...user } };
}

describe("every door refuses a run without a usable user with INVALID_USER_ID, and reads and writes nothing", () => {
  it.each(BAD_USERS)("%s", async (name, user) => {
    const m = memories.open(`users-${name.replace(/\s/g, "-")}`, { prefix: `users${name.replace(/\s/g, "")}` });
    const model = new RecordingChatModel("never called");
    const graphSaver = new MemorySaver();
    const graph = createMemoryGraph({ memory: m, model, checkpointer: graphSaver, onWarning: () => {} });
    const agent = createAgent({ model, middleware: [engramMiddleware({ memory: m, onWarning: () => {} })], checkpointer: new MemorySaver() });
    // With Engram's context schema, createAgent refuses before it saves its input too.
    const guardedSaver = new MemorySaver();
    const guarded = createAgent({
      model,
      middleware: [engramMiddleware({ memory: m, onWarning: () => {} })],
      checkpointer: guardedSaver,
      contextSchema: MemoryContext,
    });
    const tools = createMemoryTools({ memory: m });
    const search = tools.find((tool) => tool.name === "archival_memory_search")!;
    const insert = tools.find((tool) => tool.name === "archival_memory_insert")!;
    const retriever = new EngramRetriever({ memory: m });
    const inner = new MemorySaver();
    const checkpointer = new EngramCheckpointer({ memory: m, saver: inner, databasePath: `${memories.chroma.dir}/ckpt-${name.replace(/\s/g, "-")}.sqlite` });
    const input = { messages: [new HumanMessage("Remember this: my PIN is 4321.")] };

    const doors: Array<[string, () => unknown]> = [
      ["createMemoryGraph", () => graph.invoke(input, run(user, "g"))],
      ["createMemoryGraph via withConfig", () => graph.withConfig({ recursionLimit: 30 }).invoke(input, run(user, "g2"))],
      ["engramMiddleware", () => agent.invoke(input, run(user, "a"))],
      ["engramMiddleware + contextSchema: MemoryContext", () => guarded.invoke(input, run(user, "a2"))],
      ["EngramMemory", () => new EngramMemory({ memory: m, ...("user_id" in user ? { userId: user.user_id as string } : {}) } as EngramMemoryOptions)],
      ["archival_memory_search", () => search.invoke({ query: "PIN" }, run(user, "t"))],
      ["archival_memory_insert", () => insert.invoke({ content: "PIN 4321" }, run(user, "t"))],
      ["EngramRetriever", () => retriever.invoke("PIN", run(user, "r"))],
      ["EngramCheckpointer.recall", () => checkpointer.recall("PIN", run(user, "c"))],
    ];
    // The checkpointer files a run only when it names a user: a named but unusable one is refused.
    if ("user_id" in user) {
      doors.push(["EngramCheckpointer.put", () => checkpointer.put(run(user, "c"), emptyCheckpoint(), { source: "input", step: -1, parents: {} }, {})]);
    }
    for (const [door, call] of doors) expect([door, await codeOf(call)]).toEqual([door, "INVALID_USER_ID"]);

    expect(model.calls).toHaveLength(0);
    // createAgent saves its input before the middleware's beforeAgent hook can refuse the run
    // (unless it is given MemoryContext); the graph and the checkpointer refuse before anything is saved.
    for (const saver of [graphSaver, guardedSaver, inner]) {
      const stored = [];
      for await (const tuple of saver.list({})) stored.push(tuple);
      expect(stored).toEqual([]);
    }
    await checkpointer.close();
  });

  it("a user in the run's context is the same user at every run door", async () => {
    const m = memories.open("users-context", { prefix: "userscontext" });
    const retriever = new EngramRetriever({ memory: m, userId: "alice" });
    // Bound to alice: a run whose context names bob is refused, one naming alice is served.
    expect(await codeOf(() => retriever.invoke("PIN", { context: { userId: "bob" } } as RunnableConfig))).toBe("INVALID_USER_ID");
    expect(await codeOf(() => retriever.invoke("PIN", { configurable: { user_id: "alice" } }))).toBe("accepted");
    // Two different users named by one run.
    const tools = createMemoryTools({ memory: m });
    const search = tools.find((tool) => tool.name === "archival_memory_search")!;
    expect(await codeOf(() => search.invoke({ query: "PIN" }, { configurable: { user_id: "alice" }, context: { userId: "bob" } } as RunnableConfig))).toBe(
      "INVALID_SCOPE",
    );
  });
});
