import { describe, expect, it } from "@jest/globals";
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { isEngramError } from "../core/errors.js";
import { createMemoryGraph } from "../graph/agent.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";

const memories = testMemories();

const DAY = 86_400_000;
/** The session's turns: 8 and 9 May 2023; the session ends late, on 12 May. */
const MAY_8 = Date.UTC(2023, 4, 8, 10);
const MAY_9 = MAY_8 + DAY;
const MAY_12 = Date.UTC(2023, 4, 12, 9);

describe("a late session end stores each turn at its own time, not the end's (real Chroma, local model)", () => {
  it("Memory.endSession with timeOf: episodes at their exchange's time, the summary at its latest turn's, relative dates resolved against them", async () => {
    const m = memories.open("late-end", { clock: () => MAY_12 });
    const window = [
      new HumanMessage({ content: "Yesterday I moved my grandmother's old piano, a 1923 Steinway, into my flat in Oslo.", id: "h1" }),
      new AIMessage({ content: "What a lovely heirloom.", id: "a1" }),
      new HumanMessage({ content: "The weather is grey again today.", id: "h2" }),
      new AIMessage({ content: "Grey days are common in spring.", id: "a2" }),
    ];
    const times = new Map<string, number>([
      ["h1", MAY_8],
      ["a1", MAY_8 + 1_000],
      ["h2", MAY_9],
      ["a2", MAY_9 + 1_000],
    ]);
    const end = await m.endSession({ userId: "liv", threadId: "liv-1", messages: window, timeOf: (message) => times.get(message.id!) });
    expect(end).toMatchObject({ episodes: 1, summarized: 2 });
    await m.flush();
    const stored = await m.getAll({ userId: "liv" });

    const piano = stored.find((r) => r.kind === "episode" && r.source.messageIds?.[0] === "h1");
    // Stored at its turn's time (8 May), "yesterday" is 7 May; at the end's time it would be 11 May.
    expect(piano?.createdAt).toBe(MAY_8);
    expect(String(piano?.metadata.dates)).toContain("d:2023-05-07");
    expect(String(piano?.metadata.dates)).not.toContain("d:2023-05-11");
    const summary = stored.find((r) => r.kind === "summary");
    expect(summary?.source.messageIds).toEqual(["h2", "a2"]);
    // The summary is dated by the latest turn it covers (a2, 9 May), and its "today" is 9 May.
    expect(summary?.createdAt).toBe(MAY_9 + 1_000);
    expect(String(summary?.metadata.dates)).toContain("d:2023-05-09");
    expect(String(summary?.metadata.dates)).not.toContain("d:2023-05-12");
    expect(stored.every((r) => r.createdAt < MAY_12)).toBe(true);

    // A message without a time is stored at the end's; a time that is no time is refused before any write.
    const bad = await m
      .endSession({ userId: "liv", threadId: "liv-2", messages: window.map((w) => new HumanMessage({ content: `${w.text} (again)`, id: `${w.id}-2` })), timeOf: () => Number.NaN })
      .catch((error: unknown) => error);
    expect(isEngramError(bad) && bad.code).toBe("INVALID_OPTIONS");
    const notAFunction = await m.endSession({ userId: "liv", threadId: "liv-3", messages: window, timeOf: 5 as never }).catch((error: unknown) => error);
    expect(isEngramError(notAFunction) && notAFunction.code).toBe("INVALID_OPTIONS");
    await m.flush();
    expect(await m.getAll({ userId: "liv" })).toHaveLength(stored.length);
  });

  it("Memory.add with createdAt builds the records at that time; a bad createdAt is refused", async () => {
    const m = memories.open("add-created-at", { clock: () => MAY_12 });
    const { results } = await m.add("I met Maria yesterday.", { userId: "kim", createdAt: new Date(MAY_8) });
    expect(results[0]!.createdAt).toBe(MAY_8);
    expect(String(results[0]!.metadata.dates)).toContain("d:2023-05-07");
    const bad = await m.add("Another.", { userId: "kim", createdAt: "soon" as never }).catch((error: unknown) => error);
    expect(isEngramError(bad) && bad.code).toBe("INVALID_OPTIONS");
    await m.flush();
    const [stored] = await m.getAll({ userId: "kim" });
    expect(stored?.createdAt).toBe(MAY_8);
    expect(await m.getAll({ userId: "kim" })).toHaveLength(1);
  });

  it("graph.endSession long after the turns stores them at their runs' times (read from the thread's checkpoints)", async () => {
    const m = memories.open("late-graph-end");
    // Threshold 1: no turn reaches `remember`, so everything the end stores is stored by the end.
    const graph = createMemoryGraph({ memory: m, model: new RecordingChatModel("Noted."), checkpointer: new MemorySaver(), importanceThreshold: 1, onWarning: () => {} });
    const cfg = { configurable: { user_id: "max", thread_id: "max-1" } };
    const before = Date.now();
    await graph.invoke({ messages: [new HumanMessage("My sister Ana lives in Porto.")] }, cfg);
    await graph.invoke({ messages: [new HumanMessage("The weather is grey today.")] }, cfg);
    const after = Date.now();
    // A real gap between the last turn and the end: at least this long, however loaded the machine.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const endStarted = Date.now();
    const end = await graph.endSession(cfg);
    expect(end.summarized + end.episodes).toBeGreaterThan(0);
    await m.flush();
    const stored = await m.getAll({ userId: "max" });
    expect(stored.length).toBeGreaterThan(0);
    for (const record of stored) {
      expect(record.createdAt).toBeGreaterThanOrEqual(before);
      expect(record.createdAt).toBeLessThanOrEqual(after);
      expect(record.createdAt).toBeLessThan(endStarted - 1_000);
    }
    expect(((await graph.getState(cfg)).values.messages as BaseMessage[]).length).toBe(0);
  });
});
