/**
 * Token counts of recently seen texts (working/tokens.ts). Bounded in entries and in characters:
 * bounded in entries alone (10,000 texts of up to 20,000 characters each), it could keep some
 * 200 million characters alive, several hundred MB, for the life of a server whose users send
 * long messages or whose tools return long outputs. Cleared whole when full, which keeps it
 * simple; the texts that come back on every turn (the running summary, its sentences) are counted
 * again once and kept again.
 */
export class TextCounts {
  private readonly counts = new Map<string, number>();

  /** Characters of the texts kept. */
  private kept = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number,
    /** Longest text kept: a longer one is rarely seen twice, and would push many short ones out. */
    private readonly maxTextChars: number,
  ) {}

  get(text: string): number | undefined {
    return this.counts.get(text);
  }

  set(text: string, tokens: number): void {
    if (text.length > this.maxTextChars || this.counts.has(text)) return;
    if (this.counts.size >= this.maxEntries || this.kept + text.length > this.maxChars) {
      this.counts.clear();
      this.kept = 0;
    }
    this.counts.set(text, tokens);
    this.kept += text.length;
  }

  /** Characters of the texts kept (what the cache holds alive). */
  get chars(): number {
    return this.kept;
  }

  get size(): number {
    return this.counts.size;
  }
}
