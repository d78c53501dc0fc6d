import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { Annotation, END, MessagesAnnotation, MessagesValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { EngramError } from "../core/errors.js";
import { HeuristicImportanceScorer } from "../scoring/importance/heuristic.js";
import { testMemories } from "../tests/memories.js";
import { createModelNode } from "./nodes/model.js";
import { createRecallNode } from "./nodes/recall.js";
import { createRememberNode } from "./nodes/remember.js";
import { createScoreNode } from "./nodes/score.js";
import { createConsolidateNode } from "./nodes/consolidate.js";
import { EngramAnnotation, engramStateFields, MemoryState } from "./state.js";
import { RecordingChatModel } from "../tests/fake_chat.js";

const suite = testMemories();
const config = { configurable: { user_id: "alice", thread_id: "t1" } };
const scorer = new HeuristicImportanceScorer();

/** A memory that fails the test if a node touches it: the channel check comes first. */
const untouchable = {
  add: () => Promise.reject(new Error("must not be called")),
  search: () => Promise.reject(new Error("must not be called")),
  getAll: () => Promise.reject(new Error("must not be called")),
  forget: () => Promise.reject(new Error("must not be called")),
};

async function refusal(run: () => Promise<unknown>): Promise<EngramError> {
  const error = await run().then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(EngramError);
  return error as EngramError;
}

describe("graph nodes in a state without Engram's channels", () => {
  it("the score node names the missing channel instead of a TypeError deep inside", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("score", createScoreNode({ scorer }))
      .addEdge(START, "score")
      .addEdge("score", END)
      .compile();
    const error = await refusal(() => graph.invoke({ messages: [new HumanMessage("My sister lives in Berlin.")] }, config));
    expect(error.code).toBe("MISSING_STATE_CHANNEL");
    expect(error.message).toContain('"recalled"');
    expect(error.message).toContain("engramStateFields");
    expect(error.details).toEqual({ channel: "recalled", node: "score" });
  });

  it("the recall node refuses before reading, rather than recalling into a channel that drops it", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("recall", createRecallNode({ memory: untouchable }))
      .addEdge(START, "recall")
      .addEdge("recall", END)
      .compile();
    const error = await refusal(() => graph.invoke({ messages: [new HumanMessage("What do I like?")] }, config));
    expect(error.code).toBe("MISSING_STATE_CHANNEL");
    expect(error.details).toEqual({ channel: "recalled", node: "recall" });
  });

  it("every node checks its own channels", async () => {
    const messagesOnly = { messages: [new HumanMessage("hi"), new AIMessage("hello")] };
    const nodes = [
      { node: "remember", run: () => createRememberNode({ memory: untouchable })(messagesOnly as never, config), channel: "importance" },
      { node: "consolidate", run: () => createConsolidateNode({ memory: untouchable })(messagesOnly as never, config), channel: "summary" },
      { node: "model", run: () => createModelNode({ model: new RecordingChatModel({ replies: ["x"] }) })(messagesOnly as never, config), channel: "procedures" },
    ];
    for (const { node, run, channel } of nodes) {
      const error = await refusal(run);
      expect(error.code).toBe("MISSING_STATE_CHANNEL");
      expect(error.details).toEqual({ channel, node });
    }
    // A channel of the right name and the wrong type is refused too.
    const error = await refusal(() => createScoreNode({ scorer })({ ...messagesOnly, recalled: "none" } as never));
    expect(error.message).toContain("wrong type");
  });
});

describe("Engram's channels merged into a state of your own", () => {
  const memoryFor = (name: string) => suite.open(name);

  /** One turn through recall, model, score, remember: the recalled fact must reach the prompt. */
  async function expectTurnWorks(
    memory: ReturnType<typeof memoryFor>,
    model: RecordingChatModel,
    invoke: () => Promise<{ recalled: Array<{ content: string }>; importance: number }>,
  ) {
    const state = await invoke();
    expect(model.prompts[0]).toContain("Alice's sister Marta lives in Berlin.");
    expect(state.recalled.map((m) => m.content)).toContain("Alice's sister Marta lives in Berlin.");
    expect(state.importance).toBeGreaterThan(0);
    const stored = await memory.getAll({ userId: "alice", threadId: "t1" });
    expect(stored.map((m) => m.content)).toEqual(expect.arrayContaining(["Where does my sister live?", "Marta lives in Berlin."]));
  }

  async function seeded(name: string) {
    const memory = memoryFor(name);
    await memory.add("Alice's sister Marta lives in Berlin.", { userId: "alice", threadId: "old", importance: 0.9 });
    return { memory, model: new RecordingChatModel({ replies: ["Marta lives in Berlin."] }) };
  }

  const input = { messages: [new HumanMessage("Where does my sister live?")] };

  it("works with Annotation.Root({ ...MessagesAnnotation.spec, ...EngramAnnotation.spec })", async () => {
    const { memory, model } = await seeded("annotation");
    const State = Annotation.Root({ ...MessagesAnnotation.spec, ...EngramAnnotation.spec, mine: Annotation<string> });
    const graph = new StateGraph(State)
      .addNode("recall", createRecallNode({ memory }))
      .addNode("model", createModelNode({ model }))
      .addNode("score", createScoreNode({ scorer }))
      .addNode("remember", createRememberNode({ memory }))
      .addEdge(START, "recall")
      .addEdge("recall", "model")
      .addEdge("model", "score")
      .addEdge("score", "remember")
      .addEdge("remember", END)
      .compile();
    await expectTurnWorks(memory, model, () => graph.invoke(input, config));
  });

  it("works with new StateSchema({ messages: MessagesValue, ...engramStateFields })", async () => {
    const { memory, model } = await seeded("schema");
    const State = new StateSchema({ messages: MessagesValue, ...engramStateFields, mine: z.string().default("") });
    const graph = new StateGraph(State)
      .addNode("recall", createRecallNode({ memory }))
      .addNode("model", createModelNode({ model }))
      .addNode("score", createScoreNode({ scorer }))
      .addNode("remember", createRememberNode({ memory }))
      .addEdge(START, "recall")
      .addEdge("recall", "model")
      .addEdge("model", "score")
      .addEdge("score", "remember")
      .addEdge("remember", END)
      .compile();
    await expectTurnWorks(memory, model, () => graph.invoke(input, config));
  });

  it("MemoryState is the same channels with messages", () => {
    expect(Object.keys(MemoryState.fields).sort()).toEqual(["messages", ...Object.keys(engramStateFields)].sort());
    expect(Object.keys(EngramAnnotation.spec).sort()).toEqual(Object.keys(engramStateFields).sort());
  });
});
