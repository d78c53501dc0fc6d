import type { MemoryRecord, ScoredMemory } from "../../core/types.js";

/** What the model call showed: recalled memories (they set novelty) and procedures (never stored back). */
export interface CachedRecollection {
  recalled: ScoredMemory[];
  procedures: MemoryRecord[];
}

/**
 * What was recalled for a user's message, kept between the model call that recalled it and the
 * end of the run, where it sets the exchange's novelty. Only a hint: on a miss (another worker ran
 * the model call, or the entry was pushed out) the exchange counts as new, the scorer's default.
 */
export class RecallCache {
  private readonly entries = new Map<string, CachedRecollection>();

  constructor(private readonly capacity = 1_000) {}

  set(userId: string, messageId: string | undefined, recalled: CachedRecollection): void {
    if (messageId === undefined) return;
    const key = JSON.stringify([userId, messageId]);
    this.entries.delete(key);
    this.entries.set(key, recalled);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Takes the entry out: it is read once, at the end of the run. */
  take(userId: string, messageId: string | undefined): CachedRecollection {
    const none = { recalled: [], procedures: [] };
    if (messageId === undefined) return none;
    const key = JSON.stringify([userId, messageId]);
    const recalled = this.entries.get(key) ?? none;
    this.entries.delete(key);
    return recalled;
  }
}
