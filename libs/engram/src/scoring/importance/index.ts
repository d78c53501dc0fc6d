export type { ImportanceInput, ImportanceScore, ImportanceScorer } from "./types.js";
export {
  HeuristicImportanceScorer,
  DEFAULT_HEURISTIC_WEIGHTS,
  DEFAULT_NOVELTY_WEIGHT,
  type HeuristicImportanceOptions,
  type HeuristicWeights,
} from "./heuristic.js";
export { LlmImportanceScorer, LLM_IMPORTANCE_PROMPT, parseRating, type LlmImportanceOptions } from "./llm.js";
export { CombinedImportanceScorer, type WeightedScorer } from "./combined.js";
