/**
 * Tolerance on the cosine comparison: vectors are held as 32-bit floats, so two copies of one
 * vector come out at 0.9999999 rather than 1, and a threshold of exactly 1 must still match them.
 */
export const COSINE_TOLERANCE = 1e-6;

/**
 * Greedy near-duplicate grouping, exact: walks the vectors in the order given (the caller puts the
 * one it would rather keep first); each vector joins the first earlier representative whose cosine
 * similarity to it is at least `threshold` (and that `mayJoin` accepts), or else becomes a
 * representative itself. A member is
 * therefore always similar to its own representative directly, never through a chain of
 * neighbours (chains would let a group drift until its ends mean different things).
 *
 * Returns, for each position, the position of its representative (itself for a representative).
 * Empty or all-zero vectors, and vectors whose length differs from the first usable one (a model
 * change), are never grouped.
 *
 * Cost: a comparison per (vector, earlier representative) pair, so quadratic in the worst case. Most
 * pairs are settled on the first eighth of the dimensions: with unit vectors, the dot product of
 * the rest is at most the product of the rest's norms (Cauchy-Schwarz), and when the head's dot
 * product plus that bound is below the threshold the pair cannot match. The bound is exact, so no
 * duplicate is missed; on the local model's vectors it settles about 99% of pairs early (measured
 * 0.7 s for 5,000 vectors on 2 busy cores, against 5.7 s for full dot products).
 */
export function groupNearDuplicates(
  vectors: ReadonlyArray<ArrayLike<number>>,
  threshold: number,
  /** Whether `i` may join representative `r` once their cosine is high enough (forget's text check). @default always */
  mayJoin: (i: number, r: number) => boolean = () => true,
): Int32Array {
  const n = vectors.length;
  const representative = new Int32Array(n);
  for (let i = 0; i < n; i += 1) representative[i] = i;
  const dims = vectors.find((vector) => vector.length > 0)?.length ?? 0;
  if (dims === 0 || n < 2) return representative;

  // Head (first eighth) and rest of each unit vector, stored apart: the head arrays stay in cache.
  const headDims = Math.min(dims, Math.max(1, Math.ceil(dims / 8)));
  const restDims = dims - headDims;
  const head = new Float32Array(n * headDims);
  const rest = new Float32Array(n * restDims);
  const restNorm = new Float64Array(n);
  const usable = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) {
    const vector = vectors[i]!;
    if (vector.length !== dims) continue;
    let norm = 0;
    for (let k = 0; k < dims; k += 1) norm += vector[k]! * vector[k]!;
    norm = Math.sqrt(norm);
    if (!(norm > 0) || !Number.isFinite(norm)) continue;
    usable[i] = 1;
    for (let k = 0; k < headDims; k += 1) head[i * headDims + k] = vector[k]! / norm;
    let tail = 0;
    for (let k = 0; k < restDims; k += 1) {
      const value = vector[headDims + k]! / norm;
      rest[i * restDims + k] = value;
      tail += value * value;
    }
    // From the stored 32-bit values, so the bound holds for exactly what is multiplied below.
    restNorm[i] = Math.sqrt(tail);
  }

  const cutoff = threshold - COSINE_TOLERANCE;
  const representatives: number[] = [];
  for (let i = 0; i < n; i += 1) {
    if (!usable[i]) continue;
    const a = i * headDims;
    const aRest = i * restDims;
    let joined = false;
    for (const r of representatives) {
      const b = r * headDims;
      let dot = 0;
      for (let k = 0; k < headDims; k += 1) dot += head[a + k]! * head[b + k]!;
      if (dot + restNorm[i]! * restNorm[r]! < cutoff) continue;
      const bRest = r * restDims;
      for (let k = 0; k < restDims; k += 1) dot += rest[aRest + k]! * rest[bRest + k]!;
      if (dot >= cutoff && mayJoin(i, r)) {
        representative[i] = r;
        joined = true;
        break;
      }
    }
    if (!joined) representatives.push(i);
  }
  return representative;
}
