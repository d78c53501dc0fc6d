/**
 * Upkeep that runs off the caller's path, one run per key at a time: a request while a run of the
 * same key is in flight queues one more run after it, and further requests of the same variant
 * fold into that queued one (upkeep such as forgetting reads the state when it starts, so one later
 * run covers them all); requests of other variants run in it, one after the other.
 */
export class UpkeepQueue {
  private readonly running = new Map<string, Promise<void>>();
  /** Per key, the requests of the run queued and not started yet, by variant. */
  private readonly queued = new Map<string, Map<string, Requested>>();

  /**
   * Runs `task` for `key` after the run in flight for it, if any; returns at once. `onError`
   * receives a failure (the queue never rejects). Returns false when folded into a queued run.
   * Only a request of the same `variant` (the same options) folds: one with other options (a
   * forgetting pass of another thread, or with other rules) was dropped for the one queued first,
   * and never ran; it runs after it now, in the same queued run.
   */
  request(key: string, task: () => Promise<unknown>, onError: (error: unknown) => void, variant = ""): boolean {
    const waiting = this.queued.get(key);
    if (waiting) {
      if (waiting.has(variant)) return false;
      waiting.set(variant, { task, onError });
      return true;
    }
    const batch = new Map<string, Requested>([[variant, { task, onError }]]);
    this.queued.set(key, batch);
    const previous = this.running.get(key) ?? Promise.resolve();
    // Started on a later turn of the event loop, not a microtask: the caller's next steps that do
    // not wait on I/O (the rest of a graph turn) run first.
    const run: Promise<void> = previous.then(nextTurn).then(async () => {
      this.queued.delete(key);
      try {
        for (const requested of batch.values()) await attempt(requested);
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

interface Requested {
  task: () => Promise<unknown>;
  onError: (error: unknown) => void;
}

/** Runs one request; its failure goes to its own handler, never out. */
async function attempt({ task, onError }: Requested): Promise<void> {
  try {
    await task();
  } catch (error) {
    try {
      onError(error);
    } catch {
      // The caller's handler failed too (a logger whose stream closed): nobody awaits this run,
      // so its failure is contained rather than an unhandled rejection; the key keeps serving.
    }
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
