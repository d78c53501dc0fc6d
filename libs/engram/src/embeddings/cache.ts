/**
 * The last texts embedded and their vectors, least recently used out first. One agent turn embeds
 * the user's message to recall with it and again to remember it; the model is the slowest part of
 * a turn (tens of milliseconds per text on two cores), so the second time should be free.
 * Vectors are returned as stored: callers must not mutate them.
 */
export class EmbeddingCache {
  private readonly entries = new Map<string, number[]>();

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
    if (this.maxEntries <= 0) return;
    this.entries.delete(text);
    this.entries.set(text, vector);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Embeds only the texts not cached (once each), in one call, and returns every vector in order. */
  async embed(texts: readonly string[], embed: (missing: string[]) => Promise<number[][]>): Promise<number[][]> {
    const missing = [...new Set(texts.filter((text) => this.get(text) === undefined))];
    const fresh = missing.length > 0 ? await embed(missing) : [];
    if (fresh.length !== missing.length) throw new Error(`got ${fresh.length} vectors for ${missing.length} texts`);
    const found = new Map(missing.map((text, i) => [text, fresh[i]!]));
    for (const [text, vector] of found) this.set(text, vector);
    return texts.map((text) => found.get(text) ?? this.get(text)!);
  }
}
