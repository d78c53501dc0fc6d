/**
 * A map of at most `max` entries, the least recently used leaving first. For per-user handles a
 * long-running process keeps (Chroma collection handles, about 2.4 KB each): a server that meets
 * 100,000 users once each must not keep 100,000 handles for ever. A handle that left costs one
 * lookup round trip when its user comes back.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value, which becomes the most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Most collection handles a store keeps (records' and revision logs' each): some 24 MB. */
export const DEFAULT_MAX_HANDLES = 10_000;
