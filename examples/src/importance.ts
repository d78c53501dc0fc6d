/**
 * Choosing an importance scorer: the heuristic alone (no model call), or the heuristic combined
 * with a chat model's 1-10 poignancy rating. Quoted by docs/importance.md and run by
 * importance.test.ts.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { CombinedImportanceScorer, HeuristicImportanceScorer, LlmImportanceScorer, type ImportanceScorer } from "engram";

export function createImportanceScorer(model?: BaseChatModel): ImportanceScorer {
  const heuristic = new HeuristicImportanceScorer(); // features and weights: docs/importance.md
  if (model === undefined) return heuristic;
  // The model's rating counts twice as much as the heuristic; the heuristic brings novelty.
  return new CombinedImportanceScorer([
    { scorer: heuristic, weight: 1 },
    { scorer: new LlmImportanceScorer({ model }), weight: 2 },
  ]);
}

export async function rate(scorer: ImportanceScorer, exchange: string, novelty = 1) {
  const { value, reasons } = await scorer.score({ text: exchange, novelty });
  return { value: Math.round(value * 100) / 100, reasons };
}
