import { EngramError } from "../../core/errors.js";
import { validateImportanceInput, type ImportanceInput, type ImportanceScore, type ImportanceScorer } from "./types.js";
import { describeValue } from "../../core/describe.js";

/** One scorer of a combination and its weight (a positive number; weights need not sum to 1). */
export interface WeightedScorer {
  scorer: ImportanceScorer;
  weight: number;
}

/**
 * The weighted mean of several scorers, e.g. the heuristic (cheap, sees novelty) and a model's
 * rating (understands context): `{ scorer: heuristic, weight: 1 }, { scorer: llm, weight: 2 }`.
 * The parts run concurrently; a failing part fails the whole score (no silent half-answers).
 * `reasons` lists each part's reasons prefixed with its position and weight.
 */
export class CombinedImportanceScorer implements ImportanceScorer {
  private readonly parts: ReadonlyArray<WeightedScorer>;

  private readonly totalWeight: number;

  constructor(parts: Array<{ scorer: ImportanceScorer; weight: number }>) {
    if (!Array.isArray(parts) || parts.length === 0) {
      throw new EngramError("INVALID_OPTIONS", "CombinedImportanceScorer needs at least one { scorer, weight } part.");
    }
    parts.forEach((part, index) => {
      if (part === null || typeof part !== "object" || typeof part.scorer?.score !== "function") {
        throw new EngramError("INVALID_OPTIONS", `Part ${index} of the combination has no scorer with a score() method.`);
      }
      if (typeof part.weight !== "number" || !Number.isFinite(part.weight) || part.weight <= 0) {
        throw new EngramError("INVALID_OPTIONS", `Part ${index} of the combination needs a positive weight; got ${describeValue(part.weight)}.`, {
          details: { index, weight: part.weight },
        });
      }
    });
    this.parts = parts.map((part) => ({ scorer: part.scorer, weight: part.weight }));
    this.totalWeight = this.parts.reduce((sum, part) => sum + part.weight, 0);
  }

  async score(input: ImportanceInput): Promise<ImportanceScore> {
    validateImportanceInput(input);
    const scores = await Promise.all(this.parts.map((part) => part.scorer.score(input)));
    let sum = 0;
    const reasons: string[] = [];
    scores.forEach((score, index) => {
      const part = this.parts[index]!;
      sum += part.weight * clip01(score.value);
      const label = `[${index} ×${part.weight}] ${clip01(score.value).toFixed(2)}`;
      reasons.push(score.reasons.length > 0 ? `${label}: ${score.reasons.join("; ")}` : label);
    });
    return { value: sum / this.totalWeight, reasons };
  }
}

function clip01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
