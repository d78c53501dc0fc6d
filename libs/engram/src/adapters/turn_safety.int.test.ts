import { describe, expect, it } from "@jest/globals";
import { ConversationChain } from "@langchain/classic/chains";
import { HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { MemorySaver, MessagesAnnotation, StateGraph } from "@langchain/langgraph";
import { createAgent } from "langchain";
import { createMemoryGraph } from "../graph/agent.js";
import { buildSystemPrompt } from "../graph/prompt.js";
import type { Memory } from "../memory/memory.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { RECALLED_TAG } from "../turn/engram_context.js";
import { EngramMemory } from "./base_memory/engram_memory.js";
import { EngramCheckpointer } from "./checkpointer/checkpointer.js";
import { engramMiddleware } from "./middleware/middleware.js";
import { createMemoryTools } from "./tools/memory_tools.js";

const memories = testMemories();
let made = 0;

function memory(): Memory {
  const name = `door${made++}`;
  return memories.open(name, { prefix: name, writes: "background" });
}

/** A 50,000-character answer (about 12,000 tokens: code or a long explanation), with a fact inside. */
const TOPICS = ["bread", "rivers", "violins", "glaciers", "compilers", "tea", "bridges", "owls", "printing", "tides"];
const LONG_REPLY = [
  ...Array.from({ length: 420 }, (_, i) => `Section ${i + 1} is about ${TOPICS[i % TOPICS.length]}, and how they changed over the centuries in many places.`),
  "Finally, the secret ingredient of your grandmother's soup was smoked paprika.",
]
  .join(" ")
  .padEnd(50_000, " Thank you for reading this long answer.");

const warnings: string[] = [];
const onWarning = (message: string) => void warnings.push(message);

function config(userId: string, threadId: string): RunnableConfig {
  return { configurable: { user_id: userId, thread_id: threadId } };
}

/** The long answer reached long-term memory in parts, and recall finds its last part. */
async function expectRecallable(m: Memory, userId: string): Promise<void> {
  await m.flush();
  const hits = await m.search("What was the secret ingredient of grandmother's soup?", { userId, limit: 3 });
  const part = hits.find((hit) => hit.content.includes("smoked paprika"));
  expect(part).toBeDefined();
  expect(part!.metadata.parts).toBeGreaterThanOrEqual(7);
  expect(part!.metadata.part).toBeGreaterThanOrEqual(1);
  expect(part!.metadata.part).toBeLessThanOrEqual(part!.metadata.parts as number);
  const all = await m.getAll({ userId, limit: 1_000 });
  const parts = all.filter((record) => typeof record.metadata.parts === "number");
  // Every part is stored once, and together they hold the whole answer.
  expect(new Set(parts.map((record) => record.metadata.part)).size).toBe(parts.length);
  expect(parts.reduce((sum, record) => sum + record.content.length, 0)).toBeGreaterThan(49_000);
}

describe("a 50,000-character reply never fails the turn, through every door", () => {
  it("createMemoryGraph: the answer arrives and is recallable", async () => {
    const m = memory();
    const graph = createMemoryGraph({ memory: m, model: new RecordingChatModel(LONG_REPLY), checkpointer: new MemorySaver(), importanceThreshold: 0, onWarning });
    const out = await graph.invoke({ messages: [new HumanMessage("Tell me everything, and remind me about grandma's soup.")] }, config("u1", "t1"));
    expect(out.messages[out.messages.length - 1]!.text).toBe(LONG_REPLY);
    await expectRecallable(m, "u1");
  });

  it("engramMiddleware: the answer arrives and is recallable", async () => {
    const m = memory();
    const agent = createAgent({
      model: new RecordingChatModel(LONG_REPLY),
      middleware: [engramMiddleware({ memory: m, importanceThreshold: 0, onWarning })],
      checkpointer: new MemorySaver(),
    });
    const out = await agent.invoke({ messages: [new HumanMessage("Tell me everything, and remind me about grandma's soup.")] }, config("u2", "t1"));
    expect(out.messages[out.messages.length - 1]!.text).toBe(LONG_REPLY);
    await expectRecallable(m, "u2");
  });

  it("EngramMemory (BaseMemory) in a ConversationChain: the answer arrives and is recallable", async () => {
    const m = memory();
    const chain = new ConversationChain({
      llm: new RecordingChatModel(LONG_REPLY),
      memory: new EngramMemory({ memory: m, userId: "u3", threadId: "t1", importanceThreshold: 0, onWarning }),
    });
    const out = await chain.invoke({ input: "Tell me everything, and remind me about grandma's soup." });
    expect(out.response).toBe(LONG_REPLY);
    await expectRecallable(m, "u3");
  });

  it("EngramCheckpointer: the answer arrives and is filed, in parts, recallable", async () => {
    const m = memory();
    const checkpointer = new EngramCheckpointer({ memory: m });
    const model = new RecordingChatModel(LONG_REPLY);
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("model", async (state) => ({ messages: [await model.invoke(state.messages)] }))
      .addEdge("__start__", "model")
      .compile({ checkpointer });
    const out = await graph.invoke({ messages: [new HumanMessage("Tell me everything, and remind me about grandma's soup.")] }, config("u4", "t1"));
    expect(out.messages[out.messages.length - 1]!.text).toBe(LONG_REPLY);
    const flushed = await checkpointer.flush();
    expect(flushed.skipped).toEqual([]);
    await expectRecallable(m, "u4");
    await checkpointer.close();
  });

  it("memory tools: archival_memory_insert keeps a 50,000-character note as linked parts", async () => {
    const m = memory();
    const insert = createMemoryTools({ memory: m }).find((t) => t.name === "archival_memory_insert")!;
    const answer = String(await insert.invoke({ content: LONG_REPLY }, config("u5", "t1")));
    expect(answer).toMatch(/Saved to archival memory in \d+ linked parts/);
    await expectRecallable(m, "u5");
  });

  it("a failing memory degrades to a warning: the answer still arrives", async () => {
    const m = memory();
    const broken = Object.assign(Object.create(m) as Memory, {
      add: async () => {
        throw new Error("disk full");
      },
    });
    warnings.length = 0;
    const graph = createMemoryGraph({ memory: broken, model: new RecordingChatModel("Here is your answer."), importanceThreshold: 0, onWarning });
    const out = await graph.invoke({ messages: [new HumanMessage("My sister lives in Berlin.")] }, config("u6", "t1"));
    expect(out.messages[out.messages.length - 1]!.text).toBe("Here is your answer.");
    expect(warnings.join("\n")).toMatch(/Remembering the turn failed \(disk full\)/);
  });
});

/** A model that repeats its whole prompt, as fake models do and some real ones partly do. */
function echoModel(): RecordingChatModel {
  return new RecordingChatModel((messages: BaseMessage[]) => messages.map((message) => message.text).join("\n\n"));
}

const SEED = "Alice's cat is called Miso and sleeps on the piano";

/** What the user's memory holds besides the seed must not contain anything Engram put into a prompt. */
async function expectNoMemoryOfMemory(m: Memory, model: RecordingChatModel): Promise<void> {
  // The test means something only if the prompt held the recalled memory and the model echoed it.
  expect(model.calls.flat().map((message) => message.text).join("\n")).toContain("Miso");
  await m.flush();
  const records = await m.getAll({ userId: "alice", limit: 1_000 });
  const others = records.filter((record) => record.content !== SEED);
  expect(others.length).toBeGreaterThan(0);
  for (const record of others) {
    expect(record.content).not.toContain("Miso");
    expect(record.content).not.toContain(RECALLED_TAG);
    expect(record.content).not.toContain("Recalled memories from earlier conversations");
    expect(record.content).not.toContain("You are a helpful assistant with long-term memory");
  }
}

async function seeded(): Promise<Memory> {
  const m = memory();
  await m.add(SEED, { userId: "alice", kind: "fact" });
  await m.flush();
  return m;
}

const QUESTION = "What is my cat called?";

describe("no memory of memory: an echoing model never makes Engram store what it put into the prompt", () => {
  it("createMemoryGraph", async () => {
    const m = await seeded();
    const model = echoModel();
    // A window of one turn: the second turn evicts the first, so the summary path is tried too.
    const graph = createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), importanceThreshold: 0, window: { maxTurns: 1 }, onWarning });
    await graph.invoke({ messages: [new HumanMessage(QUESTION)] }, config("alice", "t1"));
    await graph.invoke({ messages: [new HumanMessage("And where does my cat sleep?")] }, config("alice", "t1"));
    await expectNoMemoryOfMemory(m, model);
  });

  it("engramMiddleware", async () => {
    const m = await seeded();
    const model = echoModel();
    const agent = createAgent({ model, middleware: [engramMiddleware({ memory: m, importanceThreshold: 0, onWarning })], checkpointer: new MemorySaver() });
    await agent.invoke({ messages: [new HumanMessage(QUESTION)] }, config("alice", "t1"));
    await expectNoMemoryOfMemory(m, model);
  });

  it("EngramMemory (BaseMemory)", async () => {
    const m = await seeded();
    const model = echoModel();
    const chain = new ConversationChain({ llm: model, memory: new EngramMemory({ memory: m, userId: "alice", threadId: "t1", importanceThreshold: 0, onWarning }) });
    await chain.invoke({ input: QUESTION });
    await expectNoMemoryOfMemory(m, model);
  });

  it("EngramCheckpointer (recalled memories put into the prompt by the app)", async () => {
    const m = await seeded();
    const checkpointer = new EngramCheckpointer({ memory: m });
    const model = echoModel();
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("model", async (state, runConfig) => {
        const recalled = await checkpointer.recall(state.messages[state.messages.length - 1]!.text, runConfig);
        const system = new SystemMessage(buildSystemPrompt({ procedures: [], summary: "", recalled }));
        return { messages: [await model.invoke([system, ...state.messages])] };
      })
      .addEdge("__start__", "model")
      .compile({ checkpointer });
    await graph.invoke({ messages: [new HumanMessage(QUESTION)] }, config("alice", "t1"));
    await checkpointer.flush();
    await expectNoMemoryOfMemory(m, model);
    await checkpointer.close();
  });
});
