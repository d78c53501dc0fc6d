/**
 * Two runs of one thread at once in one process (two tabs of a chat, a retry while the first
 * request still runs), through `queueThreadRuns`: LangGraph starts each run from the thread's
 * latest checkpoint, so without the queue both started from the same checkpoint and the run that
 * ended last wrote the thread without the other's turn. A turn under the importance threshold is
 * kept only in the window until its summary: lost from the thread, it never reached long-term memory.
 * Real Memory on a real Chroma server; the model is a recording fake whose prompts are checked.
 */
import { describe, expect, it } from "@jest/globals";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { RecordingChatModel } from "../tests/fake_chat.js";
import { testMemories } from "../tests/memories.js";
import { runConfig, say } from "../tests/runs.js";
import { queueThreadRuns } from "../turn/thread_runs.js";
import { createMemoryGraph } from "./agent.js";

const memories = testMemories();

/** A promise and the function that settles it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The texts of a thread's messages, in order. */
function texts(messages: readonly BaseMessage[]): string[] {
  return messages.map((message) => message.text);
}

/**
 * Gives a second run the chance to start while the first is in its model call: the first call
 * waits until the second call arrives (what happened before), or a while (the second run waits
 * for the first now). The wait only lets the race happen; no assertion depends on its length.
 */
const RACE_WINDOW_MS = 1_500;

describe("two runs of one thread at once, in one process, through queueThreadRuns", () => {
  it("are taken one after the other: both turns are in the thread, in order, and both reach long-term memory once", async () => {
    const m = memories.open("two-runs");
    const second = signal();
    const model = new RecordingChatModel({
      replies: [
        async () => {
          await Promise.race([second.promise, new Promise((resolve) => setTimeout(resolve, RACE_WINDOW_MS))]);
          return "Reply one.";
        },
        () => {
          second.resolve();
          return "Reply two.";
        },
      ],
    });
    // Nothing is important enough for an episode: both turns reach memory only through the window.
    const graph = queueThreadRuns(createMemoryGraph({ memory: m, model, importanceThreshold: 1, checkpointer: new MemorySaver(), onWarning: () => {} }));
    const cfg = runConfig("ines", "tab");

    const first = graph.invoke(say("The lamp in the hall flickers."), cfg);
    // Consumed as a stream, the way a chat UI runs it.
    const streamed = (async () => {
      for await (const _ of await graph.stream(say("The boiler makes a noise."), { ...cfg, streamMode: "updates" })) void _;
    })();
    await Promise.all([first, streamed]);

    const state = (await graph.unqueued.getState(cfg)).values;
    expect(texts(state.messages)).toEqual(["The lamp in the hall flickers.", "Reply one.", "The boiler makes a noise.", "Reply two."]);
    // The second run's model saw the first turn.
    expect(model.calls[1]!.filter((message) => message.getType() !== "system").map((message) => message.text)).toEqual([
      "The lamp in the hall flickers.",
      "Reply one.",
      "The boiler makes a noise.",
    ]);

    const end = await graph.endSession(cfg);
    await m.flush();
    const summaries = await m.getAll({ userId: "ines", kind: "summary" });
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.source.messageIds).toEqual(state.messages.map((message: BaseMessage) => message.id));
    expect(end.summarized).toBe(4);
  });

  it("a run that fails or is aborted lets the next run of the thread go on, and the thread keeps working", async () => {
    const m = memories.open("failed-run");
    const controller = new AbortController();
    const model = new RecordingChatModel({
      replies: [
        () => {
          throw new Error("model provider down");
        },
        // A provider call that honours the run's signal, aborted while it waits.
        () =>
          new Promise<string>((_, reject) => {
            controller.signal.addEventListener("abort", () => reject(new Error("request aborted")), { once: true });
            controller.abort();
          }),
        "Reply three.",
      ],
    });
    const graph = queueThreadRuns(createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), onWarning: () => {} }));
    const cfg = runConfig("jon", "t");

    const results = await Promise.allSettled([
      graph.invoke(say("First question?"), cfg),
      graph.invoke(say("Second question?"), { ...cfg, signal: controller.signal }),
      graph.invoke(say("Third question?"), cfg),
    ]);
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect(String((results[0] as PromiseRejectedResult).reason)).toContain("model provider down");
    const state = (await graph.unqueued.getState(cfg)).values;
    expect(texts(state.messages)).toEqual(["First question?", "Second question?", "Third question?", "Reply three."]);
    expect(state.messages.filter((message: BaseMessage) => message instanceof HumanMessage)).toHaveLength(3);
  });

  it("an explicit endSession while a run of the thread is in its model call waits for that run: the session ends with its turn, no turn comes back", async () => {
    const m = memories.open("end-during-run");
    const gate = signal();
    const model = new RecordingChatModel({
      replies: [
        "Reply one.",
        async () => {
          await gate.promise;
          return "Reply two.";
        },
      ],
    });
    const graph = queueThreadRuns(createMemoryGraph({ memory: m, model, importanceThreshold: 1, checkpointer: new MemorySaver(), onWarning: () => {} }));
    const cfg = runConfig("kai", "k");
    await graph.invoke(say("The hall lamp flickers."), cfg);

    const running = graph.invoke(say("The boiler makes a noise."), cfg);
    const ending = graph.endSession(cfg);
    // The end reads the thread now (before) or after the run (now): either way the run goes on.
    await Promise.race([ending, new Promise((resolve) => setTimeout(resolve, RACE_WINDOW_MS))]);
    gate.resolve();
    const [, end] = await Promise.all([running, ending]);

    const state = (await graph.unqueued.getState(cfg)).values;
    // Every turn left with the session; none came back with the run's last checkpoint.
    expect(texts(state.messages)).toEqual([]);
    expect(end.summarized).toBe(4);
    await m.flush();
    const summaries = await m.getAll({ userId: "kai", kind: "summary" });
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.content).toContain("boiler");
  });

  it("a stream left early (break) lets the next run of the thread go", async () => {
    const m = memories.open("left-stream");
    const model = new RecordingChatModel({ replies: ["Reply one.", "Reply two."] });
    const graph = queueThreadRuns(createMemoryGraph({ memory: m, model, checkpointer: new MemorySaver(), onWarning: () => {} }));
    const cfg = runConfig("lea", "l");
    for await (const update of await graph.stream(say("The lamp flickers."), { ...cfg, streamMode: "updates" })) {
      expect(Object.keys(update)).toEqual(["recall"]);
      break;
    }
    await graph.invoke(say("The boiler makes a noise."), cfg);
    const state = (await graph.unqueued.getState(cfg)).values;
    expect(texts(state.messages).slice(-2)).toEqual(["The boiler makes a noise.", model.calls.length === 1 ? "Reply one." : "Reply two."]);
  });
});
