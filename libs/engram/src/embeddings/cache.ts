/**
 * The last texts embedded and their vectors, least recently used out first. One agent turn embeds
 * the user's message to recall with it and again to remember it; the model is the slowest part of
 * a turn (tens of milliseconds per text on two cores), so the second time should be free.
 * Vectors are returned as stored: callers must not mutate them.
 */
/**
 * Most characters of text the cache keeps as keys (about 16 MB of UTF-16), whatever its number of
 * entries: its texts are as long as `maxContentChars` allows (up to 1,000,000), and 1,024 such
 * texts kept 2 GB alive. The default 1,024 texts of at most 8,000 characters fit in it.
 */
export const MAX_CACHED_CHARS = 8_388_608;

export class EmbeddingCache {
  private readonly entries = new Map<string, number[]>();

  /** Characters of the texts in `entries`. */
  private chars = 0;

  /** Texts being embedded now, by the call that embeds them. */
  private readonly inFlight = new Map<string, Promise<number[]>>();

  constructor(private readonly maxEntries: number) {}

  get(text: string): number[] | undefined {
    const vector = this.entries.get(text);
    if (vector !== undefined) {
      this.entries.delete(text);
      this.entries.set(text, vector);
    }
    return vector;
  }

  set(text: string, vector: number[]): void {
    if (this.maxEntries <= 0 || text.length > MAX_CACHED_CHARS) return;
    if (this.entries.delete(text)) this.chars -= text.length;
    this.entries.set(text, vector);
    this.chars += text.length;
    while (this.entries.size > this.maxEntries || this.chars > MAX_CACHED_CHARS) {
      const oldest = this.entries.keys().next().value!;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
  }

  /**
   * Embeds only the texts neither cached nor being embedded by another call (once each), in one
   * call, and returns every vector in order. A text another call is embedding waits for that call:
   * a search embedding a queued write (memory/pending_overlay.ts) and the drain embedding the same
   * write share one model call.
   */
  async embed(texts: readonly string[], embed: (missing: string[]) => Promise<number[][]>): Promise<number[][]> {
    const found = new Map<string, number[] | Promise<number[]>>();
    const missing: string[] = [];
    for (const text of new Set(texts)) {
      const known = this.get(text) ?? this.inFlight.get(text);
      if (known !== undefined) found.set(text, known);
      else missing.push(text);
    }
    if (missing.length > 0) {
      const batch = embed(missing).then((fresh) => {
        if (fresh.length !== missing.length) throw new Error(`got ${fresh.length} vectors for ${missing.length} texts`);
        return fresh;
      });
      const own = missing.map((text, i) => {
        const one = batch.then((fresh) => fresh[i]!);
        one.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
        this.inFlight.set(text, one);
        found.set(text, one);
        return one;
      });
      try {
        const fresh = await batch;
        missing.forEach((text, i) => this.set(text, fresh[i]!));
      } finally {
        missing.forEach((text, i) => {
          if (this.inFlight.get(text) === own[i]) this.inFlight.delete(text);
        });
      }
    }
    return Promise.all(texts.map((text) => found.get(text)!));
  }
}
