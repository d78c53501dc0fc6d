import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { testMemories } from "../../tests/memories.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import { PostgresState } from "./index.js";

// Two Memory instances with their own data folders on one Chroma server and one PostgreSQL: two
// replicas of an app. Declared after testMemories(), the hook below stops PostgreSQL once the
// memories are closed.
const suite = testMemories();
let postgres: TestPostgres | undefined;
let database = "";

beforeAll(async () => {
  postgres = await startPostgres();
  database = await freshDatabase(postgres.url);
});

afterAll(async () => {
  await postgres?.stop();
});

describe("Memory with PostgreSQL state (a real Chroma server, a real PostgreSQL, the local model)", () => {
  it("replicas share history; deleteAll from one erases the user from the store and every part of the state for both", async () => {
    const state = { postgres: database, schema: "app" };
    const replicaA = suite.open("replica-a", { state });
    const replicaB = suite.open("replica-b", { state });
    expect(replicaA.state.kind).toBe("postgres");

    const added = await replicaA.add("My sister Marta lives in Berlin and plays the violin.", { userId: "alice" });
    const id = added.results[0]!.id;
    await replicaA.add("Bob keeps bees in his garden.", { userId: "bob" });
    // B never saw the write, yet its history (shared state) and search (shared store) have it.
    expect((await replicaB.history(id, { userId: "alice" })).map((entry) => [entry.event, entry.newContent])).toEqual([
      ["ADD", "My sister Marta lives in Berlin and plays the violin."],
    ]);
    expect((await replicaB.search("where does my sister live?", { userId: "alice" }))[0]?.id).toBe(id);
    await replicaB.update(id, "My sister Marta lives in Hamburg and plays the violin.", { userId: "alice" });
    expect((await replicaA.history(id, { userId: "alice" })).map((entry) => entry.event)).toEqual(["ADD", "UPDATE"]);
    // Another user's history is out of reach from either replica.
    expect(await replicaA.history(id, { userId: "bob" })).toEqual([]);

    // A's in-process recall index is warm with alice's memory when B erases her.
    expect((await replicaA.search("where does my sister live?", { userId: "alice" }))[0]?.id).toBe(id);
    const erased = await replicaB.deleteAll({ userId: "alice" });
    expect(erased.deleted).toBe(1);
    for (const replica of [replicaA, replicaB]) {
      expect(await replica.search("where does my sister live?", { userId: "alice" })).toEqual([]);
      expect(await replica.history(id, { userId: "alice" })).toEqual([]);
      expect(await replica.getAll({ userId: "alice" })).toEqual([]);
    }
    expect((await replicaA.getAll({ userId: "bob" })).map((record) => record.content)).toEqual(["Bob keeps bees in his garden."]);

    // Nothing of alice is left in any table of the shared state.
    const check = new PostgresState({ postgres: database, schema: "app" });
    try {
      expect(await check.history.countUser("alice")).toBe(0);
      expect(await check.outbox().size("alice")).toBe(0);
      expect(await check.usage.totals({ userId: "alice" })).toEqual([]);
      expect(await check.history.countUser("bob")).toBe(1);
    } finally {
      await check.close();
    }
  });
});
