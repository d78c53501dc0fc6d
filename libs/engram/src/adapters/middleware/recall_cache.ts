import type { ScoredMemory } from "../../core/types.js";

/**
 * What was recalled for a user's message, kept between the model call that recalled it and the
 * end of the run, where it sets the exchange's novelty. Only a hint: on a miss (another worker ran
 * the model call, or the entry was pushed out) the exchange counts as new, the scorer's default.
 */
export class RecallCache {
  private readonly entries = new Map<string, ScoredMemory[]>();

  constructor(private readonly capacity = 1_000) {}

  set(userId: string, messageId: string | undefined, recalled: ScoredMemory[]): void {
    if (messageId === undefined) return;
    const key = JSON.stringify([userId, messageId]);
    this.entries.delete(key);
    this.entries.set(key, recalled);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Takes the entry out: it is read once, at the end of the run. */
  take(userId: string, messageId: string | undefined): ScoredMemory[] {
    if (messageId === undefined) return [];
    const key = JSON.stringify([userId, messageId]);
    const recalled = this.entries.get(key) ?? [];
    this.entries.delete(key);
    return recalled;
  }
}
