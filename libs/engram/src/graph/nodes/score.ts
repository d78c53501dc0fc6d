import type { ImportanceScorer } from "../../scoring/importance/types.js";
import { checkScorer, checkWarningHandler } from "../../turn/options.js";
import { scoreExchange } from "../../turn/finish.js";
import { requireChannels } from "../channels.js";
import type { MemoryStateUpdate, StateWith } from "../state.js";
import type { WarningHandler } from "../types.js";

export { noveltyOf } from "../../turn/finish.js";

export interface ScoreNodeOptions {
  /** Scores the exchange 0..1. */
  scorer: ImportanceScorer;
  /** Where a failed scorer (an LLM scorer's model down) is reported; the turn goes on. @default console.warn */
  onWarning?: WarningHandler;
}

/**
 * The `score` node, a thin translation of the turn core's `scoreExchange`: the importance of the
 * last exchange (latest human message and the replies to it).
 */
export function createScoreNode(options: ScoreNodeOptions) {
  const resolved = { scorer: checkScorer(options?.scorer), warn: checkWarningHandler(options.onWarning) };
  return async function score(state: StateWith<"messages" | "recalled" | "importance">): Promise<MemoryStateUpdate> {
    requireChannels(state, "score", ["messages", "recalled", "importance"]);
    return { importance: await scoreExchange(resolved, state) };
  };
}
