import { describe, expect, it } from "@jest/globals";
import { isDeletedIdRace, isFirstWriteRace, retryingTransient } from "./chroma_transient.js";

const RACE = "Error executing plan: Internal error: Error creating hnsw segment reader: Nothing found on disk";
const DELETED_ID = "Error executing plan: Internal error: Error finding id";

/** A call that fails with `errors` in turn, then answers `"ok"`; counts its tries. */
function failing(errors: Error[]): { run: () => Promise<string>; tries: () => number } {
  let tries = 0;
  return {
    run: async () => {
      const error = errors[tries];
      tries += 1;
      if (error) throw error;
      return "ok";
    },
    tries: () => tries,
  };
}

describe("retryingTransient", () => {
  it("tries a read again while it meets the first-write race, and answers", async () => {
    const call = failing([new Error(RACE), new Error(RACE)]);
    await expect(retryingTransient(call.run, [0, 0, 0])).resolves.toBe("ok");
    expect(call.tries()).toBe(3);
  });

  it("throws any other error at once", async () => {
    const call = failing([new Error("Collection [x] does not exist")]);
    await expect(retryingTransient(call.run, [0, 0, 0])).rejects.toThrow("does not exist");
    expect(call.tries()).toBe(1);
  });

  it("gives up after its pauses: one try more than pauses, the last error thrown", async () => {
    const call = failing(Array.from({ length: 10 }, () => new Error(RACE)));
    await expect(retryingTransient(call.run, [0, 0])).rejects.toThrow("Nothing found on disk");
    expect(call.tries()).toBe(3);
  });

  it("recognizes the race by Chroma's message only", () => {
    expect(isFirstWriteRace(new Error(RACE))).toBe(true);
    expect(isFirstWriteRace(new Error("Error creating hnsw segment reader: Error loading hnsw index"))).toBe(false);
    expect(isFirstWriteRace(undefined)).toBe(false);
  });

  it("tries a read that met the deleted-id race again on its own short schedule, and gives up after it", async () => {
    const once = failing([new Error(DELETED_ID)]);
    await expect(retryingTransient(once.run, [0, 0, 0, 0, 0], [0])).resolves.toBe("ok");
    expect(once.tries()).toBe(2);
    const lasting = failing(Array.from({ length: 10 }, () => new Error(DELETED_ID)));
    await expect(retryingTransient(lasting.run, [0, 0, 0, 0, 0], [0, 0])).rejects.toThrow("Error finding id");
    expect(lasting.tries()).toBe(3);
  });

  it("recognizes the deleted-id race by Chroma's message only", () => {
    expect(isDeletedIdRace(new Error(DELETED_ID))).toBe(true);
    expect(isDeletedIdRace(new Error(RACE))).toBe(false);
    expect(isDeletedIdRace(new Error("Error finding collection"))).toBe(false);
  });
});
