/**
 * Exact cosine search over one user's vectors, in process. Vectors are normalised on insert and
 * packed in one growing Float32Array (removal moves the last row into the hole), so a query is one
 * tight loop of dot products: about half a millisecond for 1,000 vectors of 512 dimensions here,
 * against a few milliseconds for an HTTP round trip to the store.
 *
 * The buffer follows the live rows both ways: it grows by half when full, from one row (a server
 * keeps up to `recallIndex.maxUsers` indexes, most of users with a handful of memories: a 64-row
 * start cost each 128 KB at 512 dimensions, 1.3 GB over 10,000 users with one memory each), and
 * shrinks when removals leave it mostly empty ({@link SHRINK_BELOW}): a user kept warm who forgets
 * down from 20,000 memories to a few hundred would otherwise keep the 40 MB the peak needed until
 * the index is rebuilt.
 */
export class VectorIndex {
  private dims = 0;
  private data = new Float32Array(0);
  private readonly ids: string[] = [];
  private readonly rowOf = new Map<string, number>();

  get size(): number {
    return this.ids.length;
  }

  /** Approximate bytes held (for the cache budget). */
  get bytes(): number {
    return this.data.byteLength;
  }

  upsert(id: string, vector: ArrayLike<number>): void {
    if (this.dims === 0) this.dims = vector.length;
    if (vector.length !== this.dims) throw new Error(`vector of ${vector.length} dimensions in an index of ${this.dims}`);
    let row = this.rowOf.get(id);
    if (row === undefined) {
      row = this.ids.length;
      this.ensureCapacity(row + 1);
      this.ids.push(id);
      this.rowOf.set(id, row);
    }
    const norm = Math.sqrt(dot(vector, vector, 0, this.dims)) || 1;
    const base = row * this.dims;
    for (let d = 0; d < this.dims; d += 1) this.data[base + d] = vector[d]! / norm;
  }

  remove(id: string): void {
    const row = this.rowOf.get(id);
    if (row === undefined) return;
    const last = this.ids.length - 1;
    if (row !== last) {
      const movedId = this.ids[last]!;
      this.data.copyWithin(row * this.dims, last * this.dims, (last + 1) * this.dims);
      this.ids[row] = movedId;
      this.rowOf.set(movedId, row);
    }
    this.ids.pop();
    this.rowOf.delete(id);
    this.shrinkIfSparse();
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  /** Cosine similarity of `query` and the stored vector of `id` (undefined when absent). */
  similarity(query: ArrayLike<number>, id: string): number | undefined {
    const row = this.rowOf.get(id);
    if (row === undefined || query.length !== this.dims) return undefined;
    const norm = Math.sqrt(dot(query, query, 0, this.dims)) || 1;
    return dot(query, this.data, row * this.dims, this.dims) / norm;
  }

  /** The `k` most similar ids (cosine, best first) among those `accept` lets through. */
  nearest(query: ArrayLike<number>, k: number, accept: (id: string) => boolean = () => true): Array<{ id: string; similarity: number }> {
    if (k <= 0 || this.ids.length === 0 || query.length !== this.dims) return [];
    const norm = Math.sqrt(dot(query, query, 0, this.dims)) || 1;
    // A small sorted buffer beats sorting every score: k is ~100, n is thousands.
    const top: Array<{ id: string; similarity: number }> = [];
    for (let row = 0; row < this.ids.length; row += 1) {
      const id = this.ids[row]!;
      const similarity = dot(query, this.data, row * this.dims, this.dims) / norm;
      if (top.length === k && similarity <= top[k - 1]!.similarity) continue;
      if (!accept(id)) continue;
      let at = top.length;
      while (at > 0 && top[at - 1]!.similarity < similarity) at -= 1;
      top.splice(at, 0, { id, similarity });
      if (top.length > k) top.pop();
    }
    return top;
  }

  /** Rows the buffer can hold. */
  get capacity(): number {
    return this.dims === 0 ? 0 : this.data.length / this.dims;
  }

  /**
   * Copies the live rows (a prefix, in order, so search results do not change) into a buffer of
   * twice their number once fewer than a quarter of its rows are live (an empty index keeps none).
   * Growth multiplies by 1.5 and shrinking needs the live rows below a quarter, so a remove right
   * after a growth never shrinks, and the copies cost O(1) per write, amortised.
   */
  private shrinkIfSparse(): void {
    if (this.ids.length >= this.capacity * SHRINK_BELOW) return;
    this.data = this.data.slice(0, this.ids.length * 2 * this.dims);
  }

  private ensureCapacity(rows: number): void {
    if (rows * this.dims <= this.data.length) return;
    const grown = new Float32Array(Math.max(rows, Math.ceil(this.ids.length * 1.5)) * this.dims);
    grown.set(this.data);
    this.data = grown;
  }
}

/** The buffer shrinks once fewer than this fraction of its rows are live. */
const SHRINK_BELOW = 0.25;

function dot(a: ArrayLike<number>, b: ArrayLike<number>, offset: number, dims: number): number {
  let sum = 0;
  for (let d = 0; d < dims; d += 1) sum += a[d]! * b[offset + d]!;
  return sum;
}
