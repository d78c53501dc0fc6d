/**
 * Engram's own model calls in a turn (the summary model that folds evicted turns, an LLM
 * importance scorer) are upkeep, not the agent's answer: an app that streams the run with
 * `streamMode: "messages"` shows its user only the answering model's tokens. Both doors, real
 * Memory on a real Chroma server; the models are recording fakes whose prompts are checked.
 */
import { describe, expect, it } from "@jest/globals";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { createAgent } from "langchain";
import { engramMiddleware } from "../adapters/middleware/middleware.js";
import { createMemoryGraph } from "../graph/agent.js";
import { LlmImportanceScorer } from "../scoring/importance/llm.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";

const memories = testMemories();

const TURNS = ["My sister Ana lives in Porto and teaches piano.", "I am training for the Lisbon half marathon in March."];

/** The answering model, the summary model and the scorer's model: each says who it is. */
function models() {
  return {
    model: new RecordingChatModel("ANSWER: noted."),
    summaryModel: new RecordingChatModel("The user talked about family."),
    rater: new RecordingChatModel("7"),
  };
}

/** The texts a `streamMode: "messages"` run streamed, with the node each came from. */
async function streamed(stream: AsyncIterable<unknown>): Promise<string[]> {
  const seen: string[] = [];
  for await (const [chunk, metadata] of stream as AsyncIterable<[BaseMessage, { langgraph_node?: string }]>) {
    if (chunk.text !== "") seen.push(`${metadata.langgraph_node}: ${chunk.text}`);
  }
  return seen;
}

describe("a turn streamed with streamMode 'messages' streams the answer only", () => {
  it("createMemoryGraph: the summary model and the LLM scorer stay off the stream", async () => {
    const m = memories.open("graph-stream");
    const { model, summaryModel, rater } = models();
    const graph = createMemoryGraph({
      memory: m,
      model,
      summaryModel,
      scorer: new LlmImportanceScorer({ model: rater }),
      window: { maxTurns: 1 },
      checkpointer: new MemorySaver(),
      onWarning: () => {},
    });
    const cfg = { configurable: { user_id: "ana", thread_id: "g-1" } };
    const seen: string[] = [];
    for (const text of TURNS) seen.push(...(await streamed(await graph.stream({ messages: [new HumanMessage(text)] }, { ...cfg, streamMode: "messages" }))));

    expect(seen).toEqual(["model: ANSWER: noted.", "model: ANSWER: noted."]);
    // They did run: the scorer rated each exchange, the summary model folded the first turn in.
    expect(rater.calls.flat().map((message) => message.text).join("\n")).toContain(TURNS[1]);
    expect(summaryModel.calls.flat().map((message) => message.text).join("\n")).toContain(TURNS[0]);
    expect((await graph.getState(cfg)).values.summary).toBe("The user talked about family.");
  });

  it("engramMiddleware in createAgent: the summary model and the LLM scorer stay off the stream", async () => {
    const m = memories.open("middleware-stream");
    const { model, summaryModel, rater } = models();
    const agent = createAgent({
      model,
      middleware: [engramMiddleware({ memory: m, summaryModel, scorer: new LlmImportanceScorer({ model: rater }), window: { maxTurns: 1 }, onWarning: () => {} })],
      checkpointer: new MemorySaver(),
    });
    const cfg = { configurable: { user_id: "ana", thread_id: "m-1" } };
    const seen: string[] = [];
    for (const text of TURNS) seen.push(...(await streamed(await agent.stream({ messages: [new HumanMessage(text)] }, { ...cfg, streamMode: "messages" }))));

    expect(seen).toEqual(["model_request: ANSWER: noted.", "model_request: ANSWER: noted."]);
    expect(rater.calls.flat().map((message) => message.text).join("\n")).toContain(TURNS[1]);
    expect(summaryModel.calls.flat().map((message) => message.text).join("\n")).toContain(TURNS[0]);
    const state = (await agent.getState(cfg)) as unknown as { values: { engramSummary?: string } };
    expect(state.values.engramSummary).toBe("The user talked about family.");
  });
});
