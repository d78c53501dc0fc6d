import type { RunnableConfig } from "@langchain/core/runnables";
import { scopeFromConfig } from "../config.js";
import { lastExchange } from "../messages.js";
import { requireChannels } from "../channels.js";
import type { MemoryStateUpdate, StateWith } from "../state.js";
import { defaultWarningHandler, type GraphMemory, type WarningHandler } from "../types.js";
import { contextOf, withoutEngramContext } from "../echo.js";

export interface RememberNodeOptions {
  memory: Pick<GraphMemory, "add">;
  /** Where a failed write is reported (the turn goes on). @default console.warn */
  onWarning?: WarningHandler;
}

/**
 * The `remember` node: the exchange's human and AI messages become `episode` records of the user,
 * with the turn's importance and the thread and message ids as their source. Message ids make the
 * write idempotent (a replayed turn stores nothing new); with the store down the records wait in
 * Memory's outbox, so the turn is not lost.
 *
 * Memory never fails the turn: a reply longer than `maxContentChars` is stored as linked parts
 * (`oversize: "split"`), what Engram put into the prompt is taken out of the model's reply
 * (`stripEngramContext`: no memory of memory), and any other failure is a warning.
 */
export function createRememberNode(options: RememberNodeOptions) {
  const warn = options.onWarning ?? defaultWarningHandler;
  return async function remember(
    state: StateWith<"messages" | "importance"> & Partial<StateWith<"summary" | "procedures" | "recalled">>,
    config?: RunnableConfig,
  ): Promise<MemoryStateUpdate> {
    requireChannels(state, "remember", ["messages", "importance"]);
    const scope = scopeFromConfig(config);
    const exchange = withoutEngramContext(lastExchange(state.messages), contextOf(state));
    if (exchange.length === 0) return {};
    try {
      await options.memory.add(exchange, { ...scope, kind: "episode", importance: clamp(state.importance), oversize: "split" });
    } catch (error) {
      // The answer is given: a memory that cannot take the exchange must not take the answer away.
      warn(`Remembering the turn failed (${(error as Error)?.message ?? error}); the answer stands, and the exchange reaches long-term memory through its summary when it leaves the window.`, error);
    }
    return {};
  };
}

function clamp(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0.5;
}
