/**
 * engramMiddleware with a client that sends its system message with every run: each run adds a
 * copy to the thread, and system messages never leave the window. Before, the copies piled up in
 * the thread for ever, every model call getting one more. Real Memory on a real Chroma server; the
 * model is a fake whose prompts are recorded and checked.
 */
import { describe, expect, it } from "@jest/globals";
import { HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { createAgent } from "langchain";
import { testMemories } from "../../tests/memories.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { runConfig } from "../../tests/runs.js";
import { engramMiddleware } from "./middleware.js";

const memories = testMemories();

const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe("engramMiddleware: a system message sent with every run", () => {
  it("is kept once in the thread: a model call gets the kept copy and this run's, not one per run", async () => {
    const m = memories.open("mw-system-every-run");
    const model = new RecordingChatModel("D'accord.");
    const agent = createAgent({ model, middleware: [engramMiddleware({ memory: m, window: { maxTurns: 2 }, onWarning: () => {} })], checkpointer: new MemorySaver() });
    const cfg = runConfig("alice", "1");

    let kept: BaseMessage[] = [];
    for (const said of ["I live in Lisbon.", "I have a cat called Miso.", "My sister is Ana.", "I work as a nurse.", "What do you know about me?"]) {
      kept = (await agent.invoke({ messages: [new SystemMessage("Answer in French."), new HumanMessage(said)] }, cfg)).messages;
    }
    expect(occurrences(model.lastSystem, "Answer in French.")).toBe(2);
    expect(kept.filter((message) => message.getType() === "system").map((message) => message.text)).toEqual(["Answer in French."]);
  });
});
