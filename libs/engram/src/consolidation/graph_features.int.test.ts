/**
 * The graph feeds the ranker what plain `Memory.add` does (issue 15, item 3): a turn stored by the
 * graph (through `remember`, or when its session ends) carries the same features as the same turn
 * added directly: its time (the record's day and the dates it speaks of, resolved against the
 * turn's time at write time: `metadata.dates`), its entities, and its session (`threadId`), which
 * the date and session boosts read. Real Chroma server, the local embedding model, a fake model
 * whose prompt is asserted.
 */
import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import type { MemoryRecord } from "../core/types.js";
import type { ImportanceInput, ImportanceScorer } from "../scoring/importance/types.js";
import { createMemoryGraph } from "../graph/agent.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";

const memories = testMemories();

/** 8 May 2023, 13:56 UTC: "yesterday" is 7 May. */
const TURN_TIME = Date.UTC(2023, 4, 8, 13, 56);
const TURN = "Caroline: I painted a sunrise over the lake yesterday with Melanie.";
const QUESTION = "When did Caroline paint a sunrise?";

/** What the ranker reads of a record besides its text and vector. */
function features(record: MemoryRecord) {
  return {
    content: record.content,
    createdAt: record.createdAt,
    threadId: record.scope.threadId ?? record.source.threadId,
    dates: record.metadata.dates,
    entities: record.metadata.entities,
  };
}

/**
 * Scores a turn under the threshold while it is live (the score node passes its novelty) and over
 * it when its session ends (consolidation scores the window without novelty): the turn reaches
 * long-term memory only through the end of its session, the path under test.
 */
const endOnly: ImportanceScorer = {
  score: async (input: ImportanceInput) => ({ value: input.novelty === undefined ? 0.5 : 0, reasons: ["test"] }),
};

describe("records written by the graph carry the features plain Memory.add gives (real Chroma, local model)", () => {
  it.each([
    ["remember (the turn is important enough)", false],
    ["endSession (the turn was still in the window)", true],
  ] as const)("%s", async (_name, endSession) => {
    let now = TURN_TIME;
    const tag = endSession ? "end" : "remember";
    // Collections of their own (one Chroma server): each Memory sees only what its path wrote.
    const plain = memories.open(`features-plain-${tag}`, { clock: () => now, prefix: `features-plain-${tag}` });
    const viaGraph = memories.open(`features-graph-${tag}`, { clock: () => now, prefix: `features-graph-${tag}` });

    await plain.add([new HumanMessage({ content: TURN, id: "turn-1" })], { userId: "caroline", threadId: "session-1" });

    const model = new RecordingChatModel("OK.");
    const graph = createMemoryGraph({ memory: viaGraph, model, checkpointer: new MemorySaver(),
      importanceThreshold: 0.1,
      ...(endSession ? { scorer: endOnly } : {}),
      onWarning: () => {},
    });
    const session = { configurable: { user_id: "caroline", thread_id: "session-1" } };
    const wallStart = Date.now();
    await graph.invoke({ messages: [new HumanMessage({ content: TURN, id: "turn-1" })] }, session);
    expect(model.lastConversation).toEqual([TURN]);
    if (endSession) {
      // Scored 0 while live: remember stored nothing; the end of the session stores the window.
      expect(await viaGraph.getAll({ userId: "caroline" })).toEqual([]);
      await graph.endSession(session);
    }
    const wallElapsed = Date.now() - wallStart;
    await plain.flush();
    await viaGraph.flush();

    const [expected] = (await plain.getAll({ userId: "caroline" })).map(features);
    expect(expected!.dates).toContain("d:2023-05-07");
    expect(expected!.threadId).toBe("session-1");
    const stored = (await viaGraph.getAll({ userId: "caroline" })).filter((r) => r.kind === "episode" && r.role === "user");
    if (endSession) {
      // The end stores the turn at its run's time, read from the thread's checkpoint (graph/sessions.ts):
      // on the Memory's clock, as long before its now() as the checkpoint is before the wall clock's
      // now. Under this test's frozen clock that is TURN_TIME minus the real time since the run: never
      // later, and no earlier than the time this test took (774 ms once on a loaded machine, so an
      // exact TURN_TIME failed). Every other feature, the dates resolved against it included, is exact.
      for (const record of stored) {
        expect(record.createdAt).toBeLessThanOrEqual(TURN_TIME);
        expect(record.createdAt).toBeGreaterThanOrEqual(TURN_TIME - wallElapsed);
      }
      expect(stored.map((record) => ({ ...features(record), createdAt: expected!.createdAt }))).toEqual([expected]);
    } else {
      expect(stored.map(features)).toEqual([expected]);
    }

    // A later session asks about the day: the graph's recall finds the turn and shows it to the model.
    now = TURN_TIME + 3 * 86_400_000;
    await graph.invoke({ messages: [new HumanMessage(`${QUESTION} Was it on 7 May 2023?`)] }, { configurable: { user_id: "caroline", thread_id: "session-2" } });
    expect(model.lastSystem).toContain("[2023-05-08] the user said: Caroline: I painted a sunrise over the lake yesterday");
  });
});
