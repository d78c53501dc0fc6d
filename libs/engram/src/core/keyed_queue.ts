/**
 * Runs tasks one at a time per key, in the order given, and tasks of different keys side by side.
 * A task that fails does not stop the next one of its key: each caller gets its own task's result.
 */
export class KeyedQueue {
  /** The tail of each key's queue; only keys with a task queued or running are kept. */
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
