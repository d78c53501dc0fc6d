import { describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import type { HistoryEntry, MemoryRecord } from "../core/types.js";
import type { StatePeerOptions } from "../tests/state_peer.js";
import { raceSuite } from "../tests/peers.js";
import { startStatePeer, type StatePeer } from "../tests/state_peers.js";
import type { AddResult } from "./options.js";

/*
 * `add` with an explicit id (a core block, a named note) names one record. Adding an id that is
 * live is a replay: the live record is kept, the new text is not stored, and the call is told so
 * (replay_warning.int.test.ts). The same must hold when two adds of one id with different texts
 * run at once, in one process or in two processes on shared state: one of them stores its text
 * (one ADD in history), the other is the replay, and the record ends with the first one's text.
 * Before, both read the id as free and both queued an ADD: the later text won, history showed two.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const ROUNDS = 10;
const suite = raceSuite();

function start(options: Omit<StatePeerOptions, "chromaUrl">): StatePeer {
  const peer = suite.keep(startStatePeer({ ...options, chromaUrl: suite.chroma.server.url }));
  return peer;
}

const REPLAY = /already exists with other content/;

/** Each round, `a` and `b` add one new id at once with their own text; exactly one text is stored. */
async function race(a: StatePeer, b: StatePeer, userId: string): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const id = `note-${round}`;
    const texts = [`The parking spot is A${round}.`, `The parking spot is B${round}.`];
    const [first, second] = await Promise.all([
      a.call<AddResult>("add", texts[0], { userId, id }),
      b.call<AddResult>("add", texts[1], { userId, id }),
    ]);
    await a.call("flush");
    await b.call("flush");
    const replayed = [first, second].map((result) => result.warnings.some((warning) => REPLAY.test(warning)));
    const stored = texts.filter((_, i) => !replayed[i]);
    const history = await a.call<HistoryEntry[]>("history", id, { userId });
    const record = await b.call<MemoryRecord | null>("get", id, { userId });
    expect({ round, replays: replayed.filter(Boolean).length, stored: stored.length }).toEqual({ round, replays: 1, stored: 1 });
    expect({ round, history: history.map((entry) => [entry.event, entry.newContent]) }).toEqual({ round, history: [["ADD", stored[0]]] });
    expect({ round, content: record?.content }).toEqual({ round, content: stored[0] });
  }
}

describe("Memory.add of one explicit id with two texts at once", () => {
  it("in one process: one add stores its text, the other is told it was not stored", async () => {
    const peer = start({ dataDir: join(suite.chroma.dir, "one-process"), writes: "background" });
    await race(peer, peer, "alice");
  });

  it("in two processes on one data folder (SQLite state)", async () => {
    const dataDir = join(suite.chroma.dir, "shared-folder");
    const a = start({ dataDir, writes: "sync" });
    const b = start({ dataDir, writes: "sync" });
    await race(a, b, "bob");
  });

  it("in two replicas on PostgreSQL state", async () => {
    const url = await suite.database("engram_explicit_id");
    const a = start({ dataDir: join(suite.chroma.dir, "replica-a"), writes: "background", postgres: url });
    const b = start({ dataDir: join(suite.chroma.dir, "replica-b"), writes: "background", postgres: url });
    await race(a, b, "carol");
  });
});
