/**
 * The consolidation graph, listed in langgraph.json as "consolidation": feed it a conversation
 * (`messages`) and it does what the memory agent does in the background, step by step, so each
 * step's state can be inspected in Studio:
 *   consolidate: turns beyond the window are folded into the running summary, removed from the
 *                state and stored as `summary` records that point at the messages they cover;
 *   forget:      duplicates merged, decayed and expired memories removed, the per-user cap applied;
 *   count:       what the user's long-term memory holds afterwards, by kind.
 */
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { createConsolidateNode, MemoryState, scopeFromConfig, type ForgetReport, type MemoryKind } from "engram";
import { exampleMemory } from "./memory.js";

const ConsolidationState = Annotation.Root({
  ...MemoryState.spec,
  /** What the forget step removed. */
  forgotten: Annotation<ForgetReport | null>({ reducer: (_, next) => next, default: () => null }),
  /** The user's memories by kind after consolidation. */
  inventory: Annotation<Partial<Record<MemoryKind, number>>>({ reducer: (_, next) => next, default: () => ({}) }),
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
    const inventory: Partial<Record<MemoryKind, number>> = {};
    for (const record of await memory.getAll({ userId, limit: 10_000 })) inventory[record.kind] = (inventory[record.kind] ?? 0) + 1;
    return { inventory };
  })
  .addEdge(START, "consolidate")
  .addEdge("consolidate", "forget")
  .addEdge("forget", "count")
  .addEdge("count", END)
  .compile();
