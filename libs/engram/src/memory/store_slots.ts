/**
 * A bound on how many store writes one process has in flight at once (the writer's drains of
 * different users run side by side). Chroma applies writes one after another, and reads wait
 * behind the queue: fifty users' drains each sending their upsert at once made a cold user's first
 * search (its index built from one small read) wait seconds behind them (bench load.ts, round 1).
 * With a few writes in flight the store stays as busy, and a read waits behind those few.
 */
export class StoreSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  /** @param limit writes in flight at most (at least 1) */
  constructor(private readonly limit: number) {}

  /** Runs `write` once a slot is free; the slot is released however it ends. */
  async run<T>(write: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await write();
    } finally {
      // Handed straight to the next waiter (the count stays), so a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
