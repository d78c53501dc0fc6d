import { describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { tempDir } from "../tests/chroma.js";
import { PeerError, peerSuite, type Peer } from "../tests/peers.js";

/*
 * One model per data folder (model_guard.ts), across processes: two processes with two models
 * that both opened one new folder (or one new prefix of a shared server) before either wrote must
 * not both store vectors in it. The first write claims it; the other model's writes, reads and
 * drains are refused with EMBEDDINGS_MISMATCH from then on, and nothing of it is stored.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const USER = { userId: "ann" };
const outcome = (call: Promise<unknown>) => call.then(() => "stored", (error: unknown) => (error instanceof PeerError ? error.code ?? error.message : String(error)));

/** Both open the folder, then both add at once: one is stored, the other refused, and only the first model's memory is kept. */
async function race(a: Peer, b: Peer): Promise<void> {
  expect(await Promise.all([a.call("getAll", USER), b.call("getAll", USER)])).toEqual([[], []]);
  const added = await Promise.all([outcome(a.call("add", "written with the hash model", USER)), outcome(b.call("add", "written with the static model", USER))]);
  expect([...added].sort()).toEqual(["EMBEDDINGS_MISMATCH", "stored"]);
  const [winner, loser] = added[0] === "stored" ? [a, b] : [b, a];
  const kept = added[0] === "stored" ? "written with the hash model" : "written with the static model";
  // The loser's later calls are refused too, and its drain stores nothing.
  expect(await outcome(loser.call("add", "a second try", USER))).toBe("EMBEDDINGS_MISMATCH");
  expect(await outcome(loser.call("search", "written", USER))).toBe("EMBEDDINGS_MISMATCH");
  // A drain the loser runs stores none of its vectors: on one folder it is refused (the winner's
  // queued writes wait for the winner), on its own folder it has nothing queued.
  await outcome(loser.call("flush"));
  expect(await outcome(loser.call("getAll", USER))).toBe("EMBEDDINGS_MISMATCH");
  await winner.call("flush");
  const records = await winner.call<Array<{ content: string }>>("getAll", USER);
  expect(records.map((record) => record.content)).toEqual([kept]);
}

describe("two models opening one new folder in two processes", () => {
  const suite = peerSuite();

  it("one data folder (its own embedded server): the first write claims it", async () => {
    for (let round = 0; round < 2; round++) {
      const dataDir = join(await tempDir(), `folder-${round}`);
      const a = suite.start({ dataDir, embeddings: "hash", writes: "background" });
      const b = suite.start({ dataDir, embeddings: "static", writes: "background" });
      await race(a, b);
      await b.close();
      await a.close();
    }
  });

  it("two data folders on one new prefix of a shared server: the first write claims the prefix", async () => {
    for (let round = 0; round < 2; round++) {
      const prefix = `race-${round}`;
      const a = suite.start({ dataDir: join(await tempDir(), "a"), chromaUrl: suite.chroma.server.url, prefix, embeddings: "hash", writes: "background" });
      const b = suite.start({ dataDir: join(await tempDir(), "b"), chromaUrl: suite.chroma.server.url, prefix, embeddings: "static", writes: "background" });
      await race(a, b);
      await a.close();
      await b.close();
    }
  });
});
