import { describe, expect, it } from "@jest/globals";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { END, START, StateGraph, MessagesAnnotation } from "@langchain/langgraph";
import { countTokens } from "engram/working";
import { turnMessageId } from "./graph_replay_metric.js";
import { NodeTimer, ReplayEmbeddings, SCRIPTED_REPLY, ScriptedModel } from "./graph_replay_parts.js";

describe("ScriptedModel", () => {
  it("answers with the fixed reply, ids it after the turn, and counts the prompt it received", async () => {
    const model = new ScriptedModel();
    const messages = [new SystemMessage("You remember things."), new HumanMessage({ content: "Caroline: hi Mel!", id: turnMessageId("D1:1") })];
    const reply = await model.invoke(messages);
    expect(reply.text).toBe(SCRIPTED_REPLY);
    expect(reply.id).toBe("reply:D1:1");
    expect(model.lastPromptTokens).toBe(countTokens(messages));
    expect(model.lastPromptTokens).toBeGreaterThan(countTokens("Caroline: hi Mel!"));
  });
});

describe("NodeTimer", () => {
  it("times the graph's named nodes that ran, and only them", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("recall", async () => ({}))
      .addNode("helper", async () => ({}))
      .addNode("consolidate", async () => ({}))
      .addEdge(START, "recall")
      .addEdge("recall", "helper")
      .addEdge("helper", "consolidate")
      .addEdge("consolidate", END)
      .compile();
    const timer = new NodeTimer();
    timer.reset();
    await graph.invoke({ messages: [new HumanMessage("hi")] }, { callbacks: [timer] });
    expect(Object.keys(timer.times).sort()).toEqual(["consolidate", "recall"]);
    expect(Object.keys(timer.cpu).sort()).toEqual(["consolidate", "recall"]);
    timer.reset();
    expect(timer.times).toEqual({});
  });
});

describe("ReplayEmbeddings", () => {
  const inner = () => {
    const calls: string[][] = [];
    return {
      calls,
      embedder: {
        async embedDocuments(texts: string[]) {
          calls.push(texts);
          return texts.map((t) => [t.length, 1]);
        },
        async embedQuery(text: string) {
          return [text.length, 1];
        },
      },
    };
  };

  it("calls the model for every text while reuse is off, and serves kept vectors once it is on", async () => {
    const { calls, embedder } = inner();
    const embeddings = new ReplayEmbeddings(embedder);
    await embeddings.embedDocuments(["a", "bb"]);
    await embeddings.embedDocuments(["a"]);
    expect(calls).toEqual([["a", "bb"], ["a"]]);
    expect(embeddings.turn.texts).toBe(3);

    embeddings.reuse = true;
    embeddings.resetTurn();
    expect(await embeddings.embedDocuments(["bb", "ccc", "ccc"])).toEqual([[2, 1], [3, 1], [3, 1]]);
    expect(calls[calls.length - 1]).toEqual(["ccc"]);
    expect(embeddings.turn.texts).toBe(1);
    expect(embeddings.stats).toEqual({ embedded: 4, reused: 2 });
  });
});
