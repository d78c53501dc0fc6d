/**
 * Upkeep that runs off the caller's path, one run per key at a time: a request while a run of the
 * same key is in flight queues one more run after it, and further requests fold into that queued
 * one (upkeep such as forgetting reads the state when it starts, so one later run covers them all).
 */
export class UpkeepQueue {
  private readonly running = new Map<string, Promise<void>>();
  private readonly queued = new Set<string>();

  /**
   * Runs `task` for `key` after the run in flight for it, if any; returns at once. `onError`
   * receives a failure (the queue never rejects). Returns false when folded into a queued run.
   */
  request(key: string, task: () => Promise<unknown>, onError: (error: unknown) => void): boolean {
    if (this.queued.has(key)) return false;
    this.queued.add(key);
    const previous = this.running.get(key) ?? Promise.resolve();
    // Started on a later turn of the event loop, not a microtask: the caller's next steps that do
    // not wait on I/O (the rest of a graph turn) run first.
    const run: Promise<void> = previous.then(nextTurn).then(async () => {
      this.queued.delete(key);
      try {
        await task();
      } catch (error) {
        try {
          onError(error);
        } catch {
          // The caller's handler failed too (a logger whose stream closed): nobody awaits this run,
          // so its failure is contained rather than an unhandled rejection; the key keeps serving.
        }
      } finally {
        if (this.running.get(key) === run) this.running.delete(key);
      }
    });
    this.running.set(key, run);
    return true;
  }

  /** Resolves when no run is in flight or queued, including runs requested while waiting. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
