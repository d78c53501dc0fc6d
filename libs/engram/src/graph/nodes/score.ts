import type { ImportanceScorer } from "../../scoring/importance/types.js";
import { exchangeText, lastExchange } from "../messages.js";
import { requireChannels } from "../channels.js";
import type { MemoryStateType, MemoryStateUpdate, StateWith } from "../state.js";
import { defaultWarningHandler, type WarningHandler } from "../types.js";

export interface ScoreNodeOptions {
  /** Scores the exchange 0..1. */
  scorer: ImportanceScorer;
  /** Where a failed scorer (an LLM scorer's model down) is reported; the turn goes on. @default console.warn */
  onWarning?: WarningHandler;
}

/**
 * Novelty of the turn against long-term memory: 1 when nothing recalled resembles it, 0 when a
 * recalled memory matches it exactly (semantic relevance 1).
 */
export function noveltyOf(state: Pick<MemoryStateType, "recalled">): number {
  const best = state.recalled.reduce((max, memory) => Math.max(max, memory.scoreParts.relevance), 0);
  return Math.min(1, Math.max(0, 1 - best));
}

/** The `score` node: the importance of the last exchange (latest human message and the replies to it). */
export function createScoreNode(options: ScoreNodeOptions) {
  const warn = options.onWarning ?? defaultWarningHandler;
  return async function score(state: StateWith<"messages" | "recalled" | "importance">): Promise<MemoryStateUpdate> {
    requireChannels(state, "score", ["messages", "recalled", "importance"]);
    const exchange = lastExchange(state.messages);
    if (exchange.length === 0) return { importance: 0 };
    let value: number;
    try {
      value = (await options.scorer.score({ text: exchangeText(exchange), novelty: noveltyOf(state) })).value;
    } catch (error) {
      // Scoring is memory's business: a scorer that fails must not fail the turn. A neutral score.
      warn(`Scoring the turn failed (${(error as Error)?.message ?? error}); it counts with importance 0.5.`, error);
      return { importance: 0.5 };
    }
    // A scorer of your own may stray outside 0..1; the state holds 0..1.
    return { importance: Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0 };
  };
}
