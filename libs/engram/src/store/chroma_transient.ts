/*
 * Chroma 1.0's one transient read error. A vector read (a query, or a get with embeddings) of a
 * new collection that runs while the collection's first upsert is being applied can fail with
 * "Error creating hnsw segment reader: Nothing found on disk" (chroma-core/chroma#4212): measured in
 * about 1 of 4 such races, never once that upsert has answered, never on a collection that already
 * holds a record, and nothing is lost (store/chroma_first_write.int.test.ts). Engram meets it when
 * another process (or instance) reads a user's brand-new collection during its first write. The
 * read is tried again after a pause: at once it often lands in the same window (7 of 15 measured).
 */

/** The pauses before each new try: about 13 s in all, far more than a first write takes. */
export const FIRST_WRITE_RACE_PAUSES_MS: readonly number[] = [25, 50, 100, 200, 400, 800, 1_600, 3_200, 6_400];

/** Whether `error` (a chromadb driver error) is the transient one above. */
export function isFirstWriteRace(error: unknown): boolean {
  const message = (error as Error | undefined)?.message ?? "";
  return /Error creating hnsw segment reader: Nothing found on disk/.test(message);
}

/**
 * Runs `run`, trying it again after each of `pauses` while it fails with the first-write race; any
 * other error, and the race's last failure, are thrown as they are. Only for calls that are safe to
 * repeat (reads; Chroma's upserts and deletes by id are too).
 */
export async function retryingFirstWriteRace<T>(run: () => Promise<T>, pauses: readonly number[] = FIRST_WRITE_RACE_PAUSES_MS): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      const pause = pauses[attempt];
      if (pause === undefined || !isFirstWriteRace(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
