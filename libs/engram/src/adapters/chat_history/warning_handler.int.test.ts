import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import type { ImportanceInput, ImportanceScore, ImportanceScorer } from "../../scoring/importance/types.js";
import { testMemories } from "../../tests/memories.js";
import { EngramChatMessageHistory } from "./history.js";

/*
 * A failed filing is reported to onWarning and retried after the next message. An app's warning
 * handler may throw (a logger whose stream is closed, a test that turns warnings into failures):
 * that must stay the handler's problem, never a rejected filing chain that rejects every later
 * flush() and skips every later filing of the thread (nor an unhandled rejection).
 */
const suite = testMemories();

/** A scorer (a model, in production) that fails on its first call only. */
class FailsOnce implements ImportanceScorer {
  calls = 0;

  async score(_input: ImportanceInput): Promise<ImportanceScore> {
    this.calls += 1;
    if (this.calls === 1) throw new Error("the scoring model timed out");
    return { value: 0.9, reasons: ["test"] };
  }
}

describe("EngramChatMessageHistory with a warning handler that throws", () => {
  it("files the next messages all the same, and flush() resolves", async () => {
    const memory = suite.open("warn-throws");
    const warnings: string[] = [];
    const scorer = new FailsOnce();
    const history = new EngramChatMessageHistory({
      memory,
      userId: "alice",
      threadId: "t1",
      scorer,
      onWarning: (message) => {
        warnings.push(message);
        throw new Error("the log stream is closed");
      },
    });
    await history.addMessages([new HumanMessage("My sister Marta lives in Berlin."), new AIMessage("Noted, Marta in Berlin.")]);
    await history.flush();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("the scoring model timed out");

    // The next message retries the filing from the same place: both exchanges reach memory.
    await history.addMessages([new HumanMessage("I play the cello."), new AIMessage("Lovely, the cello.")]);
    await history.flush();
    const stored = (await memory.getAll({ userId: "alice", threadId: "t1" })).map((record) => record.content).sort();
    expect(stored).toEqual(["I play the cello.", "Lovely, the cello.", "My sister Marta lives in Berlin.", "Noted, Marta in Berlin."]);
  });
});
