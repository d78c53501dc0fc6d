/**
 * Deterministic synthetic data: a seeded PRNG, random unit vectors, and a dataset of records
 * spread evenly over users. The same seed gives the same records, users and queries, so every
 * layout of a benchmark sees identical data.
 */

/** A seeded pseudo-random generator (mulberry32): `next()` is uniform in [0, 1). */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal sample (Box-Muller). */
  gaussian(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` with a random unit vector (uniform on the sphere) and returns it. */
  unitVector<T extends number[] | Float32Array>(out: T): T {
    let norm = 0;
    for (let i = 0; i < out.length; i++) {
      const x = this.gaussian();
      out[i] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / norm;
    return out;
  }
}

/** Derives a sub-seed from a base seed and labels, so streams for different purposes differ. */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const label of labels) {
    for (const ch of String(label)) {
      h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    }
    h = Math.imul(h ^ 0xff, 0x01000193) >>> 0;
  }
  return h;
}

/** A record as handed to a store layout. */
export interface BenchRecord {
  id: string;
  userId: string;
  vector: number[];
}

/** Pads a user number into a stable id: `user-0007`. */
export function userIdOf(index: number, users: number): string {
  return `user-${String(index).padStart(Math.max(4, String(users - 1).length), "0")}`;
}

/**
 * `size` records with random unit vectors of `dim` dimensions, record `i` owned by user
 * `i % users` (so users get `size / users` records each, ±1). Vectors are kept in one
 * Float32Array; `record(i)` materialises a record on demand.
 */
export class Dataset {
  readonly users: readonly string[];
  private readonly vectors: Float32Array;
  private readonly byUser: Map<string, number[]>;

  constructor(
    readonly size: number,
    readonly userCount: number,
    readonly dim: number,
    seed: number,
  ) {
    this.users = Array.from({ length: userCount }, (_, u) => userIdOf(u, userCount));
    this.vectors = new Float32Array(size * dim);
    const prng = new Prng(deriveSeed(seed, "dataset", size, userCount, dim));
    for (let i = 0; i < size; i++) prng.unitVector(this.vectors.subarray(i * dim, (i + 1) * dim));
    this.byUser = new Map(this.users.map((u) => [u, []]));
    for (let i = 0; i < size; i++) this.byUser.get(this.userOfIndex(i))!.push(i);
  }

  userOfIndex(i: number): string {
    return this.users[i % this.userCount] as string;
  }

  idOf(i: number): string {
    return `r${i}`;
  }

  record(i: number): BenchRecord {
    return {
      id: this.idOf(i),
      userId: this.userOfIndex(i),
      vector: Array.from(this.vectors.subarray(i * this.dim, (i + 1) * this.dim)),
    };
  }

  /** Indices of one user's records, ascending. */
  indicesOf(userId: string): readonly number[] {
    return this.byUser.get(userId) ?? [];
  }

  /** Owner of a dataset record id (`r<i>`), or undefined for ids not from this dataset. */
  ownerOf(id: string): string | undefined {
    const match = /^r(\d+)$/.exec(id);
    if (!match) return undefined;
    const i = Number(match[1]);
    return i < this.size ? this.userOfIndex(i) : undefined;
  }
}

/** Splits `items` into consecutive chunks of at most `size`. */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
