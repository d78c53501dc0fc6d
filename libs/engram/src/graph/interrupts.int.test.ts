/**
 * A turn paused by `interrupt()` (a model step that asks a person first) and resumed with
 * `Command({ resume })`, streamed as a chat UI streams it: memory is recalled once for the turn,
 * and the turn is stored once, after the resume. Real Memory on a real Chroma server; the model is
 * a recording fake whose prompt is checked.
 */
import { describe, expect, it } from "@jest/globals";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { RunnableLambda } from "@langchain/core/runnables";
import { Command, interrupt, MemorySaver } from "@langchain/langgraph";
import { testMemories } from "../tests/memories.js";
import { runConfig, say } from "../tests/runs.js";
import { createMemoryGraph } from "./agent.js";
import type { GraphMemory } from "./types.js";

const memories = testMemories();

describe("a turn paused by interrupt() and resumed with Command({ resume })", () => {
  it("recalls once, stores the turn once after the resume, and the resumed model sees the recalled memory", async () => {
    const m = memories.open("interrupt");
    await m.add("The user's sister Ana lives in Porto.", { userId: "lia", kind: "fact" });
    let searches = 0;
    const memory: GraphMemory = {
      add: (input, options) => m.add(input, options),
      search: (query, options) => {
        searches += 1;
        return m.search(query, options);
      },
      getAll: (options) => m.getAll(options),
      forget: (options) => m.forget(options),
    };
    const prompts: string[] = [];
    // A model step that asks a person before it answers.
    const model = RunnableLambda.from(async (messages: BaseMessage[]) => {
      const approved = interrupt({ question: "Send the answer?" }) as string;
      prompts.push(messages.map((message) => message.text).join("\n"));
      return new AIMessage(`Booked the train to see your sister (${approved}).`);
    });
    const graph = createMemoryGraph({ memory, model, checkpointer: new MemorySaver(), onWarning: () => {} });
    const cfg = runConfig("lia", "l-1");

    const paused: string[] = [];
    for await (const update of await graph.stream(say("Please book me a train to Porto to visit my sister next Friday."), { ...cfg, streamMode: "updates" })) {
      paused.push(...Object.keys(update));
    }
    expect(paused).toEqual(["recall", "__interrupt__"]);
    expect((await graph.getState(cfg)).next).toEqual(["model"]);
    await m.flush();
    expect(await m.getAll({ userId: "lia", kind: "episode" })).toEqual([]);

    const resumed: string[] = [];
    for await (const update of await graph.stream(new Command({ resume: "approved" }), { ...cfg, streamMode: "updates" })) {
      resumed.push(...Object.keys(update));
    }
    expect(resumed).toEqual(["model", "score", "remember", "consolidate"]);
    expect(searches).toBe(1);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain("Ana lives in Porto");

    await m.flush();
    const episodes = await m.getAll({ userId: "lia", kind: "episode" });
    expect(episodes.map((record) => record.content).sort()).toEqual([
      "Booked the train to see your sister (approved).",
      "Please book me a train to Porto to visit my sister next Friday.",
    ]);
    // A replay of the resumed run stores nothing twice.
    await graph.invoke(say("Thanks, that is all."), cfg);
    await m.flush();
    expect((await m.getAll({ userId: "lia", kind: "episode" })).filter((record) => record.content.startsWith("Booked"))).toHaveLength(1);
  });
});
