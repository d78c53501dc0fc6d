import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { summarize } from "../consolidation/summarize.js";
import { createConsolidateNode } from "../graph/nodes/consolidate.js";
import { tokenUsageOf } from "../core/token_usage.js";
import { LlmImportanceScorer } from "../scoring/importance/llm.js";
import { promptKind } from "../tests/fake_chat.js";
import { testMemories } from "../tests/memories.js";
import { UsageChatModel } from "../tests/usage_model.js";
import { Memory } from "./memory.js";

const memories = testMemories();

/** Extraction finds one fact per exchange; reconciliation says it is new. */
function factReplies(messages: BaseMessage[]): string {
  const kind = promptKind(messages);
  if (kind === "extract") {
    const said = /user: ([^\n]*)/.exec(messages.map((m) => m.text).join("\n"))?.[1] ?? "";
    return JSON.stringify({ facts: [{ text: `User said: ${said}`, entities: [] }] });
  }
  if (kind === "reconcile") return JSON.stringify({ decisions: [{ fact: 0, event: "ADD" }] });
  return "7";
}

describe("memory.usage(): tokens of Engram's own model calls", () => {
  it("reads usage_metadata; absent metadata is a call with unknown tokens", () => {
    expect(tokenUsageOf(new AIMessage({ content: "x", usage_metadata: { input_tokens: 12, output_tokens: 3, total_tokens: 15 } }))).toEqual({
      inputTokens: 12,
      outputTokens: 3,
      totalTokens: 15,
      reported: true,
    });
    expect(tokenUsageOf(new AIMessage("x"))).toEqual({ inputTokens: 0, outputTokens: 0, totalTokens: 0, reported: false });
  });

  it("counts extraction and reconciliation per user and kind, persists them for another process, and erases them with the user", async () => {
    const model = new UsageChatModel(factReplies);
    const m = memories.open("counts", { prefix: "counts", model, facts: { background: false } });
    await m.add([{ role: "user", content: "I adopted a cat named Miso" }, { role: "assistant", content: "Lovely!" }], { userId: "ann", threadId: "t1" });
    await m.add([{ role: "user", content: "I moved to Lisbon last spring" }, { role: "assistant", content: "Nice city." }], { userId: "ann", threadId: "t1" });
    await m.add([{ role: "user", content: "My sister Ines visits often" }, { role: "assistant", content: "Great." }], { userId: "bob", threadId: "t2" });
    await m.flush();
    // The model was really asked: an extraction prompt names the exchange.
    const kinds = model.calls.map(promptKind);
    expect(model.calls[0]!.map((message) => message.text).join("\n")).toContain("user: I adopted a cat named Miso");
    const zero = () => ({ calls: 0, tokens: 0 });
    const expected = { ann: { extraction: zero(), reconciliation: zero() }, bob: { extraction: zero(), reconciliation: zero() } };
    model.calls.forEach((messages, index) => {
      const user = messages.map((message) => message.text).join("\n").includes("Ines") ? "bob" : "ann";
      const kind = kinds[index] === "extract" ? "extraction" : "reconciliation";
      const { input, output } = model.usageOf(index);
      expected[user][kind].calls += 1;
      expected[user][kind].tokens += input + output;
    });
    expect(kinds.filter((kind) => kind === "reconcile").length).toBeGreaterThan(0);

    const ann = await m.usage({ userId: "ann" });
    expect(ann.byUser.map((row) => row.userId)).toEqual(["ann"]);
    expect(ann.byKind.extraction.calls).toBe(expected.ann.extraction.calls);
    expect(ann.byKind.extraction.totalTokens).toBe(expected.ann.extraction.tokens);
    expect(ann.byKind.reconciliation.totalTokens).toBe(expected.ann.reconciliation.tokens);
    expect(ann.byKind.summary.calls).toBe(0);
    const all = await m.usage();
    expect(all.total.totalTokens).toBe(
      expected.ann.extraction.tokens + expected.ann.reconciliation.tokens + expected.bob.extraction.tokens + expected.bob.reconciliation.tokens,
    );
    expect(all.total.calls).toBe(model.calls.length);
    expect(all.total.inputTokens + all.total.outputTokens).toBe(all.total.totalTokens);

    // Another Memory on the same data folder (as `engram ui` in another process) reads the same figures.
    const other = memories.track(new Memory({ dataDir: join(memories.chroma.dir, "counts"), prefix: "counts", embeddings: memories.embeddings, chroma: { url: memories.chroma.server.url } }));
    expect(await other.usage()).toEqual(all);

    await m.deleteAll({ userId: "ann" });
    const after = await other.usage();
    expect(after.byUser.map((row) => row.userId)).toEqual(["bob"]);
    expect(after.total.totalTokens).toBe(expected.bob.extraction.tokens + expected.bob.reconciliation.tokens);
  });

  it("counts summaries and LLM importance through usageHook, and calls without usage metadata as unreported", async () => {
    const m = memories.open("hooks", { prefix: "hooks" });
    const summarizer = new UsageChatModel(() => "The user likes tea.");
    const evicted = [new HumanMessage({ content: "I like tea", id: "h1" }), new AIMessage({ content: "Noted", id: "a1" })];
    await summarize({ previousSummary: "", evicted, model: summarizer, onUsage: m.usageHook("summary", "cy") });
    expect(summarizer.calls[0]![0]!.text).toContain("I like tea");
    const scorer = new LlmImportanceScorer({ model: new UsageChatModel(() => "8", false), onUsage: m.usageHook("importance", "cy") });
    expect((await scorer.score({ text: "user: my mother died" })).value).toBeCloseTo(7 / 9);
    const report = await m.usage({ userId: "cy" });
    const { input, output } = summarizer.usageOf(0);
    expect(report.byKind.summary).toEqual({ calls: 1, inputTokens: input, outputTokens: output, totalTokens: input + output, unreported: 0 });
    expect(report.byKind.importance).toEqual({ calls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, unreported: 1 });
    // Bad input is refused before anything is written.
    expect(() => m.usageHook("bills" as never, "cy")).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    await expect(m.usage({ userId: { $ne: "x" } as never })).rejects.toMatchObject({ code: "INVALID_USER_ID" });
  });

  it("counts the graph's summaries under the run's user", async () => {
    const m = memories.open("graph", { prefix: "graph" });
    const summaryModel = new UsageChatModel(() => "Dee plays chess on Sundays.");
    const consolidate = createConsolidateNode({ memory: m, summaryModel, window: { maxTurns: 1 }, forgetEvery: 0 });
    const messages = [
      new HumanMessage({ content: "I play chess on Sundays", id: "u1" }),
      new AIMessage({ content: "Nice hobby", id: "a1" }),
      new HumanMessage({ content: "What should I cook?", id: "u2" }),
      new AIMessage({ content: "Try a risotto", id: "a2" }),
    ];
    await consolidate({ messages, summary: "", turnsSinceForget: 0 }, { configurable: { user_id: "dee", thread_id: "t1" } });
    expect(summaryModel.calls[0]!.map((message) => message.text).join("\n")).toContain("I play chess on Sundays");
    const usage = await m.usage({ userId: "dee" });
    const expected = summaryModel.calls.map((_, i) => summaryModel.usageOf(i)).reduce((sum, { input, output }) => sum + input + output, 0);
    expect(usage.byKind.summary).toMatchObject({ calls: summaryModel.calls.length, totalTokens: expected });
    expect(summaryModel.calls.length).toBe(2); // the running summary and the stored chunk
  });
});
