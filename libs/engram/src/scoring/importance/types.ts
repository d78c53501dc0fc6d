import { EngramError } from "../../core/errors.js";
import { describeValue } from "../../core/describe.js";

/** What an importance scorer reads. */
export interface ImportanceInput {
  /**
   * The exchange as text (`"user: ...\nassistant: ..."`, one `role: ` prefix per message) or one
   * message.
   */
  text: string;
  /**
   * 0..1, 1 = nothing similar is stored yet (the caller computes it from recall, e.g. one minus
   * the best match's similarity).
   * @default 1
   */
  novelty?: number;
}

/** How much an exchange is worth remembering. */
export interface ImportanceScore {
  /** 0..1, higher is more worth remembering. */
  value: number;
  /** Why: the heuristic's features that fired, the model's rating, or each part of a combination. */
  reasons: string[];
}

/**
 * Rates an exchange. The graph's importance edge compares `value` with a threshold to decide
 * whether the turn goes to long-term memory.
 */
export interface ImportanceScorer {
  score(input: ImportanceInput): Promise<ImportanceScore>;
}

/** Checks an input before any scorer reads it; returns the novelty with its default applied. */
export function validateImportanceInput(input: ImportanceInput): { text: string; novelty: number } {
  if (input === null || typeof input !== "object" || typeof input.text !== "string") {
    throw new EngramError("INVALID_CONTENT", "An importance input needs a `text` string.");
  }
  const novelty = input.novelty ?? 1;
  if (typeof novelty !== "number" || !Number.isFinite(novelty) || novelty < 0 || novelty > 1) {
    throw new EngramError("INVALID_OPTIONS", `novelty must be a number from 0 to 1; got ${describeValue(input.novelty)}.`, {
      details: { novelty: input.novelty },
    });
  }
  return { text: input.text, novelty };
}
