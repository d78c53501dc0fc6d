/**
 * The memory agent, listed in langgraph.json as "memory_agent" for `langgraph dev` and LangGraph
 * Studio: recall -> model -> score -> (importance edge) -> remember -> consolidate. The server
 * supplies the checkpointer. Runs need `configurable.user_id` (and get a `thread_id` from the
 * server's threads).
 */
import { createMemoryGraph } from "engram/graph";
import { exampleMemory } from "./memory.js";
import { exampleModel } from "./model.js";

export const graph = createMemoryGraph({
  memory: exampleMemory(),
  model: exampleModel(),
  systemPrompt: "You are a helpful assistant with long-term memory of this user.",
  window: { maxTurns: 6 },
});
