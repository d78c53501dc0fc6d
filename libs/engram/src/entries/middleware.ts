/**
 * `engram/middleware`: Engram as a middleware of `createAgent` (langchain v1). Its types come from
 * the optional peer `langchain`, which an app using `createAgent` has installed anyway; Engram
 * itself never loads it.
 */
export { engramMiddleware, engramMiddlewareState, engramMiddlewareContext } from "../adapters/middleware/middleware.js";
export type { EngramMiddlewareOptions } from "../adapters/middleware/options.js";
export { MemoryContext, type MemoryContextType } from "../turn/run_context.js";
export { queueThreadRuns, type ThreadQueued, type ThreadRunnable } from "../turn/thread_runs.js";
