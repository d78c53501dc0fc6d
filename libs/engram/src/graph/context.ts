// The context schema is the turn core's (turn/run_context.ts): the graph and createAgent share it.
export { MemoryContext, type MemoryContextType } from "../turn/run_context.js";
