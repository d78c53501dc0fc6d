import type { RunnableConfig } from "@langchain/core/runnables";
import { isEngramError } from "../../core/errors.js";
import type { MemoryKind } from "../../core/types.js";
import { scopeFromConfig } from "../config.js";
import { lastHumanIndex, textOf } from "../messages.js";
import { requireChannels } from "../channels.js";
import type { MemoryStateUpdate, StateWith } from "../state.js";
import { defaultWarningHandler, type GraphMemory, type WarningHandler } from "../types.js";

export interface RecallNodeOptions {
  memory: Pick<GraphMemory, "search" | "getAll">;
  /** How many long-term memories reach the prompt. @default 5 */
  limit?: number;
  /** Kinds recalled by meaning (procedures are always read in full, not searched). @default ["episode", "fact", "summary"] */
  kinds?: MemoryKind[];
  /** Longest query sent to recall, in characters; a longer message is cut. @default 2000 */
  maxQueryChars?: number;
  /** Where a degraded recall is reported. @default console.warn */
  onWarning?: WarningHandler;
}

export const DEFAULT_RECALL_LIMIT = 5;
const DEFAULT_KINDS: MemoryKind[] = ["episode", "fact", "summary"];
/** Core blocks and learned instructions of one user: always few, read in full each turn. */
const MAX_PROCEDURES = 100;

/**
 * The `recall` node: the latest human message becomes a query over the user's long-term memory
 * (every thread of the user in `config.configurable.user_id`), and the user's procedure records
 * are read for the system prompt. When the store is down the turn goes on with the window and the
 * summary only: a warning, never an error.
 */
export function createRecallNode(options: RecallNodeOptions) {
  const limit = options.limit ?? DEFAULT_RECALL_LIMIT;
  const kinds = options.kinds ?? DEFAULT_KINDS;
  const maxQueryChars = options.maxQueryChars ?? 2000;
  const warn = options.onWarning ?? defaultWarningHandler;

  return async function recall(state: StateWith<"messages" | "recalled" | "procedures">, config?: RunnableConfig): Promise<MemoryStateUpdate> {
    // Its writes would be dropped without a word in a state that has no channel for them.
    requireChannels(state, "recall", ["messages", "recalled", "procedures"]);
    // Before any read or write: a run without a user must fail, not fall back to a shared scope.
    const { userId } = scopeFromConfig(config);
    const index = lastHumanIndex(state.messages);
    const query = index < 0 ? "" : textOf(state.messages[index]!).trim().slice(0, maxQueryChars);
    try {
      const [found, procedures] = await Promise.all([
        query === "" ? Promise.resolve([]) : options.memory.search(query, { userId, limit: limit + Math.min(state.messages.length, 50), filters: { kind: kinds } }),
        options.memory.getAll({ userId, kind: "procedure", limit: MAX_PROCEDURES }),
      ]);
      // What is still in the window is already in the prompt verbatim: recall something else.
      const inWindow = new Set(state.messages.map((m) => m.id).filter((id): id is string => typeof id === "string"));
      const recalled = found
        .filter((memory) => !(memory.source.messageIds ?? []).some((id) => inWindow.has(id)))
        .slice(0, limit);
      return { recalled, procedures };
    } catch (error) {
      if (isEngramError(error) && (error.code.startsWith("INVALID_") || error.code === "CLOSED")) throw error;
      warn(`Recall failed (${(error as Error)?.message ?? error}); answering from the window and the summary only.`, error);
      // The procedures of the last successful read stay in the state and keep reaching the prompt.
      return { recalled: [] };
    }
  };
}
