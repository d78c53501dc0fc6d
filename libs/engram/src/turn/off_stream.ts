/**
 * Engram's own model calls inside a turn (the summary model folding evicted turns, an LLM
 * importance scorer) are upkeep, not the agent's answer. Called from a LangGraph node without a
 * config of their own, they inherit the node's run through LangChain's async context, callbacks
 * included, and LangGraph's `streamMode: "messages"` streamed their text to the app's user as if
 * the agent had said it ("7", "The user talked about..."). Work run through {@link offTheStream}
 * keeps the run's callbacks (tracing still shows it under the node) with LangGraph's no-stream tag.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";

/** The tag LangGraph's messages stream skips (`TAG_NOSTREAM`). */
const NO_STREAM = "langsmith:nostream";

/** Runs `work` in the current run's context, its model calls tagged out of the messages stream. */
export function offTheStream<T>(work: () => Promise<T>): Promise<T> {
  const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as RunnableConfig | undefined;
  if (config === undefined) return work();
  const tags = config.tags ?? [];
  if (tags.includes(NO_STREAM)) return work();
  return AsyncLocalStorageProviderSingleton.runWithConfig({ ...config, tags: [...tags, NO_STREAM] }, work);
}
