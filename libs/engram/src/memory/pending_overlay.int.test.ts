import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { PostgresState } from "../state/postgres/index.js";
import { testMemories } from "../tests/memories.js";
import { holdLocks, pendingOverlayScenario } from "../tests/pending_scenario.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../tests/postgres.js";
import type { Memory } from "./memory.js";

// Read-your-writes without waiting for the drain (memory/pending_overlay.ts): with every drain of
// the users held back by their "drain" lock, searches rank the queued writes from the outbox.
// A real Chroma server, the local model, real SQLite and PostgreSQL states.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const suite = testMemories();
let postgres: TestPostgres | undefined;

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await postgres?.stop();
});

/** A Memory as the scenario calls it. */
const client = (memory: Memory) => ({
  add: (text: string, options: { userId: string }) => memory.add(text, options),
  update: (id: string, text: string, options: { userId: string }) => memory.update(id, text, options),
  delete: (id: string, options: { userId: string }) => memory.delete(id, options),
  search: (query: string, options: { userId: string; limit?: number }) => memory.search(query, options),
  getAll: (options: { userId: string; kind?: "episode" | "procedure" }) => memory.getAll(options),
  get: (id: string, options: { userId: string }) => memory.get(id, options),
  flush: () => memory.flush(),
});

describe("a search sees the user's queued writes while the drain is held back", () => {
  it("in one process on a SQLite folder: finds the add, hides the delete, sees the update", async () => {
    const memory = suite.open("one-process");
    await pendingOverlayScenario({
      writer: client(memory),
      readers: [client(memory)],
      hold: (users) => holdLocks((user, name, fn) => memory.state.leases.exclusive(user, name, fn), users),
      queued: (user) => memory.state.outbox().size(user),
    });
  });

  it("across two replicas on PostgreSQL state: the other replica's search finds the queued writes too", async () => {
    const database = await freshDatabase(postgres!.url);
    const state = { postgres: database, schema: "overlay" };
    const writer = suite.open("replica-a", { state });
    const reader = suite.open("replica-b", { state });
    // The test's own connection to the state: it holds the drain locks against both replicas.
    const locks = new PostgresState({ postgres: database, schema: "overlay" });
    try {
      await pendingOverlayScenario({
        writer: client(writer),
        readers: [client(reader), client(writer)],
        hold: (users) => holdLocks((user, name, fn) => locks.leases.exclusive(user, name, fn), users),
        queued: (user) => locks.outbox().size(user),
      });
      expect(writer.state.kind).toBe("postgres");
    } finally {
      await locks.close();
    }
  });

  it('recallIndex.pending "drain" keeps the old behaviour: the search drains first (nothing stays queued)', async () => {
    const memory = suite.open("drain-mode", { recallIndex: { pending: "drain" } });
    await memory.add("Dana grows tomatoes on her balcony.", { userId: "dana" });
    const hits = await memory.search("what does Dana grow?", { userId: "dana" });
    expect(hits[0]?.content).toBe("Dana grows tomatoes on her balcony.");
    expect(await memory.state.outbox().size("dana")).toBe(0);
    expect(() => suite.open("bad-mode", { recallIndex: { pending: "later" as never } })).toThrow(/recallIndex.pending/);
  });
});
