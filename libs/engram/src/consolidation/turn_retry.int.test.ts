import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { HeuristicImportanceScorer } from "../scoring/importance/heuristic.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { consolidateTurn } from "../turn/consolidate.js";
import type { Memory } from "../memory/memory.js";

// A turn's consolidation makes two summary-model calls: the summary record of the turns leaving
// the window and the running summary. When the running summary failed, the turns stayed in the
// window to be folded in later, but their record was stored already: the next turn filed them
// again (with the turn that left since, so under another id), and they were in long-term memory
// twice.
const memories = testMemories();

/** Turn `n` of a thread about the weather: a user's remark and the reply. */
const turn = (n: number): BaseMessage[] => [
  new HumanMessage({ content: `Weather remark number ${n}: grey again.`, id: `h${n}` }),
  new AIMessage({ content: "Grey days are common.", id: `a${n}` }),
];

/** consolidateTurn's options: a window of one turn, the summary model given, nothing kept as an episode. */
const optionsWith = (memory: Memory, summaryModel: RecordingChatModel, warn: (message: string) => void) => ({
  memory,
  window: { maxTurns: 1 },
  summaryModel,
  summaryMaxTokens: 400,
  scorer: new HeuristicImportanceScorer(),
  forgetEvery: 0,
  warn,
  importanceThreshold: 1.1,
});

describe("consolidateTurn after its running summary failed", () => {
  it("files the turns that left the window once, in the turn that folds them in", async () => {
    const m = memories.open("turn-retry", { writes: "sync" });
    const scope = { userId: "pia", threadId: "p-1" };
    const model = new RecordingChatModel((_messages, call) => {
      if (call === 1) throw new Error("rate limited");
      return `Summary, take ${call + 1}: the user talked about the weather.`;
    });
    const warnings: string[] = [];
    const options = optionsWith(m, model, (message) => warnings.push(message));
    const first = await consolidateTurn(options, { messages: [...turn(1), ...turn(2)], summary: "", turnsSinceForget: 0 }, scope);
    expect(first.summary).toBeUndefined();
    expect(warnings).toHaveLength(1);
    const second = await consolidateTurn(options, { messages: [...turn(1), ...turn(2), ...turn(3)], summary: "", turnsSinceForget: 0 }, scope);
    expect(second.evictedIds).toEqual(["h1", "a1", "h2", "a2"]);
    const summaries = await m.getAll({ ...scope, kind: "summary" });
    expect(summaries.map((record) => record.source.messageIds)).toEqual([["h1", "a1", "h2", "a2"]]);
  });

  it("files the turns that left the window once when the turn runs again after a crash, whatever the model says the second time", async () => {
    // The process died after the summary record was stored and before LangGraph wrote the step's
    // checkpoint: the resumed run consolidates the same messages again, and the summary model
    // (temperature above 0, another day) words the summary differently. A record named by its text
    // was a second summary of the same turns.
    const m = memories.open("turn-rerun", { writes: "sync" });
    const scope = { userId: "rui", threadId: "r-1" };
    const model = new RecordingChatModel((_messages, call) => `Summary, take ${call + 1}: the user talked about the weather.`);
    const options = optionsWith(m, model, () => undefined);
    const state = { messages: [...turn(1), ...turn(2)], summary: "", turnsSinceForget: 0 };
    await consolidateTurn(options, state, scope);
    const [stored] = await m.getAll({ ...scope, kind: "summary" });
    await consolidateTurn(options, state, scope);
    const summaries = await m.getAll({ ...scope, kind: "summary" });
    expect(summaries.map((record) => [record.source.messageIds, record.content])).toEqual([[["h1", "a1"], stored!.content]]);
    // Both runs asked the model for the summary record and the running summary (its replies differ
    // by call): the record is the first run's, kept.
    expect(model.calls).toHaveLength(4);
  });
});
