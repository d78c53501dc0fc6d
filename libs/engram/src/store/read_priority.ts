/**
 * Reads first: while a user's records are being scanned (a cold user's first search builds its
 * recall index from them, memory/recall.ts), this store's new writes wait before they are sent, for
 * a bounded time. Chroma serves a read behind the writes already queued; with many users' drains
 * writing at once, a first search of four records waited over a second behind them (bench load.ts,
 * round 1). Bounding how many writes are in flight instead slowed the drains down (Chroma takes
 * concurrent writes faster than one by one): only writes sent during a scan wait.
 */

/** A write waits this long at most for scans in flight, so a run of cold searches cannot stall the drain. */
const MAX_WRITE_WAIT_MS = 1_000;

export class ReadPriority {
  private reading = 0;
  private done: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  /** Runs a read that writes should not queue in front of. */
  async read<T>(run: () => Promise<T>): Promise<T> {
    if (this.reading === 0) this.done = new Promise((resolve) => (this.release = resolve));
    this.reading += 1;
    try {
      return await run();
    } finally {
      this.reading -= 1;
      if (this.reading === 0) this.release();
    }
  }

  /** Resolves when no read is in flight, or after {@link MAX_WRITE_WAIT_MS}. Never rejects. */
  async beforeWrite(): Promise<void> {
    if (this.reading === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, MAX_WRITE_WAIT_MS);
      timer.unref();
    });
    await Promise.race([this.done, timeout]);
    clearTimeout(timer);
  }
}
