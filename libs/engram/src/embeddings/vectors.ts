/**
 * What an embedding model returned, checked before Engram keeps, caches or stores any of it.
 *
 * A model the caller passes is any object with `embedDocuments`: a misbehaving one (a proxy that
 * answers `null` for a text it could not read, a float overflow, a server that drops a text of a
 * batch) used to have its answer written as it was. A NaN or Infinity vector was stored and never
 * found again (its cosine is NaN); an empty one, or one of another size, was refused by Chroma only
 * when the drain wrote it, so a background write was dropped for good, after the caller had been
 * told it was kept. Refused here with `EMBEDDING_FAILED`, a background write stays queued and is
 * embedded again on a later drain; a caller waiting (a search, a sync add) gets the error, before
 * anything is written.
 */
import { EngramError } from "../core/errors.js";
import { describeValue } from "../core/describe.js";

/**
 * The vectors `value` holds for `count` texts, as plain arrays of numbers (a `Float32Array` per
 * text, which some clients return, is copied into one).
 * @throws EngramError `EMBEDDING_FAILED` when `value` is not `count` vectors of one size, each of
 * finite numbers and not all zero (a zero vector has no direction: every cosine with it is 0/0).
 */
export function checkVectors(value: unknown, count: number): number[][] {
  if (!Array.isArray(value)) throw failed(`returned ${describeValue(value)} instead of a list of vectors`);
  if (value.length !== count) throw failed(`returned ${value.length} vectors for ${count} texts`);
  const vectors = value.map((vector: unknown, i) => checkVector(vector, i));
  const size = vectors[0]?.length;
  const other = vectors.findIndex((vector) => vector.length !== size);
  if (other >= 0) throw failed(`returned vectors of different sizes in one call (${size} and ${vectors[other]!.length} dimensions)`);
  return vectors;
}

function checkVector(vector: unknown, i: number): number[] {
  const numbers = plainNumbers(vector);
  if (numbers === undefined) throw failed(`returned ${describeValue(vector)} as vector ${i}, not a list of numbers`);
  if (numbers.length === 0) throw failed(`returned an empty vector (vector ${i})`);
  let zero = true;
  for (const [j, x] of numbers.entries()) {
    if (typeof x !== "number" || !Number.isFinite(x)) throw failed(`returned ${describeValue(x)} at position ${j} of vector ${i}, not a finite number`);
    if (x !== 0) zero = false;
  }
  if (zero) throw failed(`returned an all-zero vector (vector ${i}), which has no direction to compare`);
  return numbers as number[]; // every element checked above
}

/** An array as is, a typed array of floats copied into one; undefined for anything else. */
function plainNumbers(vector: unknown): unknown[] | undefined {
  if (Array.isArray(vector)) return vector;
  if (vector instanceof Float32Array || vector instanceof Float64Array) return Array.from(vector);
  return undefined;
}

/**
 * A model call's failure as Engram reports it: an EngramError as it is (a check above, a
 * deadline), anything else thrown by the model as `EMBEDDING_FAILED` with it as the cause.
 */
export function embeddingFailure(cause: unknown): EngramError {
  if (cause instanceof EngramError) return cause;
  const reason = cause instanceof Error ? cause.message : describeValue(cause);
  return new EngramError("EMBEDDING_FAILED", `Embedding failed: ${reason}`, { cause });
}

function failed(what: string): EngramError {
  return new EngramError("EMBEDDING_FAILED", `The embedding model ${what}.`);
}
