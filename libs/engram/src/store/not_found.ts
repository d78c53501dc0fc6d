import { ChromaNotFoundError } from "chromadb";

/**
 * Chroma's "not found" (a collection that does not exist, or was deleted under a handle), also
 * when the store's error mapping has wrapped it as the cause of an `EngramError`.
 */
export function isNotFound(error: unknown): boolean {
  for (let at: unknown = error, depth = 0; at !== undefined && at !== null && depth < 4; depth += 1) {
    if (at instanceof ChromaNotFoundError || /does not exist|not found/i.test(String((at as Error).message ?? at))) return true;
    at = (at as { cause?: unknown }).cause;
  }
  return false;
}
