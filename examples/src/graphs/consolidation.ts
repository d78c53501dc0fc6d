/**
 * The consolidation graph, listed in langgraph.json as "consolidation": feed it a conversation
 * (`messages`) and it does what the memory agent does in the background, step by step, so each
 * step's state can be inspected in Studio:
 *   consolidate: turns beyond the window are folded into the running summary, removed from the
 *                state and stored as `summary` records that point at the messages they cover;
 *   forget:      duplicates merged, decayed and expired memories removed, the per-user cap applied;
 *   count:       what the user's long-term memory holds afterwards, by kind.
 */
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import type { ForgetReport } from "engram";
import { createConsolidateNode, MemoryState, scopeFromConfig } from "engram/graph";
import { exampleMemory } from "./memory.js";

const ConsolidationState = new StateSchema({
  ...MemoryState.fields,
  /** What the forget step removed. */
  forgotten: (z.looseObject({ merged: z.number(), evicted: z.number(), expired: z.number(), removedIds: z.array(z.string()) }) as unknown as z.ZodType<ForgetReport>)
    .nullable()
    .default(null),
  /** The user's memories by kind after consolidation. */
  inventory: z.record(z.string(), z.number()).default(() => ({})),
});

const memory = exampleMemory();

export const graph = new StateGraph(ConsolidationState)
  .addNode("consolidate", createConsolidateNode({ memory, window: { maxTurns: 2 }, forgetEvery: 0 }))
  .addNode("forget", async (_state: typeof ConsolidationState.State, config) => {
    const { userId } = scopeFromConfig(config);
    return { forgotten: await memory.forget({ userId }) };
  })
  .addNode("count", async (_state: typeof ConsolidationState.State, config) => {
    const { userId } = scopeFromConfig(config);
    const inventory: Record<string, number> = {};
    for (const record of await memory.getAll({ userId, limit: 10_000 })) inventory[record.kind] = (inventory[record.kind] ?? 0) + 1;
    return { inventory };
  })
  .addEdge(START, "consolidate")
  .addEdge("consolidate", "forget")
  .addEdge("forget", "count")
  .addEdge("count", END)
  .compile();
