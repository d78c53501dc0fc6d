/**
 * A `createAgent` agent with Engram's middleware, served by the application itself: two runs of
 * one thread at once (the second streamed with `streamEvents`, as a chat UI does), through
 * `queueThreadRuns`. Without the queue both start from the same checkpoint and the run that ends
 * last writes the thread without the other's turn. Real Memory on a real Chroma server; the
 * model is a recording fake whose prompts are checked.
 */
import { describe, expect, it } from "@jest/globals";
import type { BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { MemorySaver } from "@langchain/langgraph";
import { createAgent } from "langchain";
import { testMemories } from "../../tests/memories.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { runConfig, say } from "../../tests/runs.js";
import { queueThreadRuns } from "../../turn/thread_runs.js";
import { engramMiddleware } from "./middleware.js";

const memories = testMemories();

/** Lets the second run start while the first is in its model call; no assertion depends on its length. */
const RACE_WINDOW_MS = 1_500;

/** A recording model whose first call waits until a second call arrives, or a while. */
class SlowFirstModel extends RecordingChatModel {
  private secondArrived!: () => void;

  private readonly second = new Promise<void>((resolve) => (this.secondArrived = resolve));

  constructor() {
    super((_, call) => (call === 0 ? "Reply one." : "Reply two."));
  }

  override async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    if (this.calls.length === 0) {
      this.calls.push([...messages]);
      await Promise.race([this.second, new Promise((resolve) => setTimeout(resolve, RACE_WINDOW_MS))]);
      this.calls.pop();
      const result = await super._generate(messages);
      return result;
    }
    this.secondArrived();
    return super._generate(messages);
  }
}

describe("queueThreadRuns over a createAgent agent with engramMiddleware", () => {
  it("takes two runs of one thread one after the other (invoke and streamEvents): both turns in the thread, the second model call saw the first", async () => {
    const m = memories.open("mw-queue");
    const model = new SlowFirstModel();
    const agent = queueThreadRuns(
      createAgent({ model, middleware: [engramMiddleware({ memory: m, onWarning: () => {} })], checkpointer: new MemorySaver() }),
    );
    const cfg = runConfig("noor", "chat");

    const first = agent.invoke(say("The lamp in the hall flickers."), cfg);
    const events: string[] = [];
    const streamed = (async () => {
      for await (const event of agent.streamEvents(say("The boiler makes a noise."), { ...cfg, version: "v2" })) events.push(event.event);
    })();
    await Promise.all([first, streamed]);

    expect(events).toContain("on_chat_model_end");
    const state = await agent.unqueued.graph.getState(cfg);
    const texts = (state.values.messages as BaseMessage[]).map((message) => message.text);
    expect(texts).toEqual(["The lamp in the hall flickers.", "Reply one.", "The boiler makes a noise.", "Reply two."]);
    expect(model.calls).toHaveLength(2);
    expect(model.lastConversation).toEqual(["The lamp in the hall flickers.", "Reply one.", "The boiler makes a noise."]);
  });
});
