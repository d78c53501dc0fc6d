/**
 * A graph that consolidates without a recall node (the `consolidation` example LangGraph Studio
 * serves: paste a conversation, it is folded into the summary and stored): the thread's first user
 * owns it there too. Before, nothing set the owner in such a graph, and another user's run on the
 * thread filed the first user's turns (still in the window) into that user's memory. Real Memory on
 * a real Chroma server; no model.
 */
import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { testMemories } from "../tests/memories.js";
import { codeOf, runConfig } from "../tests/runs.js";
import { createConsolidateNode } from "./nodes/consolidate.js";
import { MemoryState } from "./state.js";

const memories = testMemories();

const pasted = (...turns: [string, string][]) => ({ messages: turns.flatMap(([said, answer]) => [new HumanMessage(said), new AIMessage(answer)]) });

describe("a consolidation-only graph", () => {
  it("refuses another user's run on a thread: the first user's turns are never filed as theirs", async () => {
    const m = memories.open("consolidate-owner");
    const graph = new StateGraph(MemoryState)
      .addNode("consolidate", createConsolidateNode({ memory: m, window: { maxTurns: 2 }, forgetEvery: 0 }))
      .addEdge(START, "consolidate")
      .addEdge("consolidate", END)
      .compile({ checkpointer: new MemorySaver() });

    await graph.invoke(
      pasted(
        ["My bank PIN is 4711.", "I will keep it safe."],
        ["My diagnosis is diabetes.", "Thank you for telling me."],
        ["My sister Ines lives in Faro.", "Noted."],
      ),
      runConfig("alice", "1"),
    );
    expect((await graph.getState(runConfig("alice", "1"))).values.owner).toBe("alice");

    expect(await codeOf(graph.invoke(pasted(["I like tennis.", "Nice!"], ["I play on Sundays.", "Great."]), runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    await m.flush();
    expect(await m.getAll({ userId: "bob" })).toEqual([]);
    // Alice's own turns are hers: the first left the window as her summary.
    expect((await m.getAll({ userId: "alice" })).map((record) => record.content).join("\n")).toContain("4711");
  });
});
