import type { MemoryRecord, ScoredMemory } from "../../core/types.js";

/** What the model call showed: recalled memories (they set novelty) and procedures (never stored back). */
export interface ShownRecollection {
  recalled: ScoredMemory[];
  procedures: MemoryRecord[];
}

/**
 * What the middleware's model call showed for a user's message, kept (per message, in process)
 * until the end of the run, where it sets the exchange's novelty and is kept out of what is
 * stored. Not a cache of recall (that is Memory's recall index): only a hint, so on a miss (another
 * worker ran the model call, or the entry was pushed out) the exchange counts as new, the
 * scorer's default.
 */
export class ShownRecollections {
  private readonly entries = new Map<string, ShownRecollection>();

  constructor(private readonly capacity = 1_000) {}

  set(userId: string, messageId: string | undefined, recalled: ShownRecollection): void {
    if (messageId === undefined) return;
    const key = JSON.stringify([userId, messageId]);
    this.entries.delete(key);
    this.entries.set(key, recalled);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Takes the entry out: it is read once, at the end of the run. */
  take(userId: string, messageId: string | undefined): ShownRecollection {
    const none = { recalled: [], procedures: [] };
    if (messageId === undefined) return none;
    const key = JSON.stringify([userId, messageId]);
    const recalled = this.entries.get(key) ?? none;
    this.entries.delete(key);
    return recalled;
  }
}
