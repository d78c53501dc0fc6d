/**
 * Turns leaving the graph's window are in long-term memory once (issue 15, item 3: "summaries
 * compete with episodes"): an important exchange as its episode, the others inside one summary
 * record, never both. Real Chroma server, the local embedding model, a fake model whose prompt is
 * asserted.
 */
import { SUMMARY_HEADING } from "../turn/engram_context.js";
import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { createMemoryGraph } from "../graph/agent.js";
import type { ImportanceInput, ImportanceScorer } from "../scoring/importance/types.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";

const memories = testMemories();

const FACT = "My grandmother's old piano is a 1923 Steinway that I keep in Oslo.";
/** Says nothing about the user (importance 0), yet is not filler: the summary keeps it. */
const WEATHER = "The weather is grey and rainy across the whole city again.";

function say(text: string, id: string) {
  return { messages: [new HumanMessage({ content: text, id })] };
}

describe("turns leaving the window are stored once: as an episode or in a summary (real Chroma, local model)", () => {
  it("an important evicted exchange is not repeated in the summary record; an unimportant one is summarized", async () => {
    const m = memories.open("window-once");
    const model = new RecordingChatModel("Noted.");
    // A window of one turn: each turn evicts the one before it.
    const graph = createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), window: { maxTurns: 1 }, onWarning: () => {} });
    const cfg = { configurable: { user_id: "gus", thread_id: "gus-1" } };
    await graph.invoke(say(FACT, "h1"), cfg);
    await graph.invoke(say(WEATHER, "h2"), cfg);
    await graph.invoke(say("What else is new?", "h3"), cfg);
    await m.flush();

    // The running summary still folds in both evicted turns (the second left after this prompt was built).
    expect(model.lastSystem).toContain(`${SUMMARY_HEADING}\nuser: My grandmother's old piano is a 1923 Steinway`);
    const summary = (await graph.getState(cfg)).values.summary as string;
    expect(summary).toContain("1923 Steinway");
    expect(summary).toContain("grey and rainy");

    const stored = await m.getAll({ userId: "gus" });
    const summaries = stored.filter((r) => r.kind === "summary");
    expect(stored.filter((r) => r.kind === "episode" && r.role === "user").map((r) => r.content)).toEqual([FACT]);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.content).toContain("grey and rainy");
    expect(summaries[0]!.content).not.toContain("Steinway");
    expect(summaries[0]!.source.messageIds).toContain("h2");
    expect(summaries[0]!.source.messageIds).not.toContain("h1");
  });

  it("an important exchange that remember skipped (low novelty during its turn) is stored as an episode when it leaves the window", async () => {
    const m = memories.open("window-late-episode");
    const model = new RecordingChatModel("Noted.");
    // Under the threshold while live (the score node passes novelty), over it when judged alone.
    const scorer: ImportanceScorer = {
      score: async (input: ImportanceInput) => ({ value: input.novelty === undefined ? 0.5 : 0, reasons: ["test"] }),
    };
    const graph = createMemoryGraph({ memory: m, model, scorer, checkpointer: new MemorySaver(), window: { maxTurns: 1 }, onWarning: () => {} });
    const cfg = { configurable: { user_id: "hal", thread_id: "hal-1" } };
    await graph.invoke(say(FACT, "h1"), cfg);
    await m.flush();
    expect(await m.getAll({ userId: "hal" })).toEqual([]);
    await graph.invoke(say(WEATHER, "h2"), cfg);
    await m.flush();

    const stored = await m.getAll({ userId: "hal" });
    // The exchange: the human message and the model's reply.
    expect(stored.filter((r) => r.kind === "episode").map((r) => r.role).sort()).toEqual(["assistant", "user"]);
    expect(stored.find((r) => r.role === "user")!.source.messageIds).toEqual(["h1"]);
    expect(stored.filter((r) => r.kind === "episode" && r.role === "user").map((r) => r.content)).toEqual([FACT]);
    expect(stored.filter((r) => r.kind === "summary")).toEqual([]);
    // A new thread recalls it into the prompt.
    await graph.invoke(say("Where is my grandmother's piano?", "q1"), { configurable: { user_id: "hal", thread_id: "hal-2" } });
    expect(model.lastSystem).toContain("1923 Steinway");
  });
});
