import { EngramError } from "../core/errors.js";
import type { MemoryStateType } from "./state.js";
import { describeValue } from "../core/describe.js";

/**
 * The importance edge: a turn scored at or above `threshold` goes to `remember` (stored as an
 * episode); below it, straight to `consolidate`, and it reaches long-term memory only through the
 * summary written when it leaves the window.
 */
export function routeByImportance(threshold: number): (state: Pick<MemoryStateType, "importance">) => "remember" | "consolidate" {
  if (typeof threshold !== "number" || !(threshold >= 0 && threshold <= 1)) {
    throw new EngramError("INVALID_OPTIONS", `importanceThreshold must be a number from 0 to 1, got ${describeValue(threshold)}.`);
  }
  return (state) => (state.importance >= threshold ? "remember" : "consolidate");
}
