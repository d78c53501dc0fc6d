import { describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { SqliteState } from "../state/sqlite/index.js";
import { holdLocks, pendingOverlayScenario, type ScenarioClient } from "../tests/pending_scenario.js";
import { peerSuite, type Peer } from "../tests/peers.js";

// Read-your-writes across processes without waiting for the drain (memory/pending_overlay.ts): two
// child processes, each with its own Memory on one SQLite data folder and one Chroma server, the
// local model, background writes. The test process holds the users' "drain" locks in the shared
// state, so neither process can drain; the other process's search still finds the queued writes.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const peerClient = (peer: Peer): ScenarioClient => ({
  add: (text, options) => peer.call("add", text, options),
  update: (id, text, options) => peer.call("update", id, text, options),
  delete: (id, options) => peer.call("delete", id, options),
  search: (query, options) => peer.call("search", query, options),
  getAll: (options) => peer.call("getAll", options),
  get: (id, options) => peer.call("get", id, options),
  flush: () => peer.call("flush"),
});

describe("a search in another process sees the queued writes while every drain is held back", () => {
  const suite = peerSuite();

  it("finds the add, hides the delete, sees the update, in the writer's process and the other one", async () => {
    const dataDir = join(suite.chroma.dir, "shared");
    const options = { dataDir, chromaUrl: suite.chroma.server.url, writes: "background" as const, embeddings: "local" as const };
    const writer = suite.start(options);
    const reader = suite.start(options);
    // The test's own handle on the folder's state: its locks hold back both processes' drains.
    const state = new SqliteState({ path: dataDir });
    try {
      await pendingOverlayScenario({
        writer: peerClient(writer),
        readers: [peerClient(reader), peerClient(writer)],
        hold: (users) => holdLocks((user, name, fn) => state.leases.exclusive(user, name, fn), users),
        queued: (user) => state.outbox().size(user),
      });
      expect(writer.pid).not.toBe(reader.pid);
    } finally {
      await state.close();
    }
  });
});
