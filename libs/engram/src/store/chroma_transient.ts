/*
 * Chroma 1.0's transient read errors. The first: A vector read (a query, or a get with embeddings) of a
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
 * Chroma 1.0's second transient error: "Error executing plan: Internal error: Error finding id", met
 * once by a get in CI (memory/fuzz.int.test.ts: two instances on one data folder, one user's
 * records deleted by one while the other read them) and not again in reruns of the same seed. A
 * read of records being deleted; tried again after short pauses (about half a second in all), so
 * that a lasting fault is still reported soon.
 */
export const DELETED_ID_RACE_PAUSES_MS: readonly number[] = [25, 100, 400];

/** Whether `error` (a chromadb driver error) is the transient one above. */
export function isDeletedIdRace(error: unknown): boolean {
  const message = (error as Error | undefined)?.message ?? "";
  return /Internal error: Error finding id/.test(message);
}

/**
 * Runs `run`, trying it again after each pause of the schedule of the transient error it meets
 * (`pauses` for the first-write race, `shortPauses` for the deleted-id race); any other error, and
 * a transient one past its schedule, are thrown as they are. Only for calls that are safe to repeat
 * (reads; Chroma's upserts and deletes by id are too).
 */
export async function retryingTransient<T>(
  run: () => Promise<T>,
  pauses: readonly number[] = FIRST_WRITE_RACE_PAUSES_MS,
  shortPauses: readonly number[] = DELETED_ID_RACE_PAUSES_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      const schedule = isFirstWriteRace(error) ? pauses : isDeletedIdRace(error) ? shortPauses : undefined;
      const pause = schedule?.[attempt];
      if (pause === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
