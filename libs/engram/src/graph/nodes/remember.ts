import type { RunnableConfig } from "@langchain/core/runnables";
import { scopeFromConfig } from "../config.js";
import { lastExchange } from "../messages.js";
import { requireChannels } from "../channels.js";
import type { MemoryStateUpdate, StateWith } from "../state.js";
import type { GraphMemory } from "../types.js";

export interface RememberNodeOptions {
  memory: Pick<GraphMemory, "add">;
}

/**
 * The `remember` node: the exchange's human and AI messages become `episode` records of the user,
 * with the turn's importance and the thread and message ids as their source. Message ids make the
 * write idempotent (a replayed turn stores nothing new); with the store down the records wait in
 * Memory's outbox, so the turn is not lost.
 */
export function createRememberNode(options: RememberNodeOptions) {
  return async function remember(state: StateWith<"messages" | "importance">, config?: RunnableConfig): Promise<MemoryStateUpdate> {
    requireChannels(state, "remember", ["messages", "importance"]);
    const scope = scopeFromConfig(config);
    const exchange = lastExchange(state.messages);
    if (exchange.length === 0) return {};
    await options.memory.add(exchange, { ...scope, kind: "episode", importance: clamp(state.importance) });
    return {};
  };
}

function clamp(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0.5;
}
