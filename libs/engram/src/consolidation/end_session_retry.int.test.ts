import { describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { consolidateSession } from "./end_session.js";

// Ending a session makes two summary-model calls: the summary record of the turns it files and
// the running summary. When the second failed, the end failed and was retried, but the record of
// the first attempt was already stored: the retry stored a second record (another text, so
// another id) of the same turns, and they were in long-term memory twice.
const memories = testMemories();

describe("consolidateSession retried after its summary model failed", () => {
  it("files the window's turns in one summary record, not one per attempt", async () => {
    const m = memories.open("end-retry", { writes: "sync" });
    const scope = { userId: "omar", threadId: "o-1" };
    const window = [
      new HumanMessage({ content: "The weather is grey again today.", id: "h1" }),
      new AIMessage({ content: "Grey days are common in spring.", id: "a1" }),
    ];
    // The second call fails (a rate limit); every answer is worded a little differently.
    const model = new RecordingChatModel((_messages, call) => {
      if (call === 1) throw new Error("rate limited");
      return `Summary, take ${call + 1}: the user talked about grey weather.`;
    });
    // Nothing is important enough for an episode: the whole window goes into the summary record.
    const options = { summaryModel: model, importanceThreshold: 1.1 };
    await expect(consolidateSession(m, scope, window, "", options)).rejects.toMatchObject({ code: "MODEL_ERROR" });
    const end = await consolidateSession(m, scope, window, "", options);
    expect(end.summarized).toBe(2);
    const summaries = await m.getAll({ ...scope, kind: "summary" });
    expect(summaries.map((record) => record.source.messageIds)).toEqual([["h1", "a1"]]);
  });
});
