import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { ChromaClient } from "chromadb";
import { fileURLToPath } from "node:url";
import { readStoreModel } from "../../store/model_marker.js";
import { storeMarkerName } from "../../store/langgraph/model_check.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { PeerError, startScriptPeer, type KillablePeer } from "../../tests/peers.js";
import type { ModelPeerOptions } from "./model_peer.js";

/*
 * A store prefix holds the vectors of one embedding model (model_check.int.test.ts). Two
 * processes whose stores embed with two models, opening one new prefix at the same moment, must
 * not both write: the first to claim the prefix's marker has it, and the other's put is refused
 * with EMBEDDINGS_MISMATCH before it writes a vector, then and later.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const PEER = fileURLToPath(new URL("./model_peer.ts", import.meta.url));
const ROUNDS = 8;
let chroma: TestChroma;
const peers: KillablePeer[] = [];

beforeAll(async () => {
  chroma = await startTestChroma();
});
afterAll(async () => {
  for (const peer of peers.splice(0)) await peer.close();
  await chroma?.stop();
});

const outcome = (call: Promise<unknown>) => call.then(String, (error: unknown) => (error instanceof PeerError ? error.code ?? error.message : String(error)));

describe("EngramStore: two models' first puts on one new prefix, in two processes at once", () => {
  it("the first claim of the prefix wins; the other model's puts are refused before writing", async () => {
    const a = startScriptPeer(PEER, { chromaUrl: chroma.server.url, modelId: "hash-a" } satisfies ModelPeerOptions);
    const b = startScriptPeer(PEER, { chromaUrl: chroma.server.url, modelId: "hash-b" } satisfies ModelPeerOptions);
    peers.push(a, b);
    // Both processes are up (modules loaded, server reached) before the race.
    await Promise.all([outcome(a.call("put", "warm-a", ["w"], "k", "warm")), outcome(b.call("put", "warm-b", ["w"], "k", "warm"))]);
    const raw = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
    for (let round = 0; round < ROUNDS; round++) {
      const prefix = `race${round}`;
      const results = await Promise.all([
        outcome(a.call("put", prefix, ["alice"], "a", "written by model a")),
        outcome(b.call("put", prefix, ["alice"], "b", "written by model b")),
      ]);
      expect({ round, outcome: [...results].sort() }).toEqual({ round, outcome: ["EMBEDDINGS_MISMATCH", "stored"] });
      const winner = results[0] === "stored" ? "hash-a" : "hash-b";
      expect({ round, marker: await readStoreModel(raw, storeMarkerName(prefix)) }).toEqual({ round, marker: winner });
      // Later puts: the winner's go on, the other model's stay refused.
      const again = await Promise.all([outcome(a.call("put", prefix, ["alice"], "a2", "more")), outcome(b.call("put", prefix, ["alice"], "b2", "more"))]);
      expect({ round, again }).toEqual({ round, again: winner === "hash-a" ? ["stored", "EMBEDDINGS_MISMATCH"] : ["EMBEDDINGS_MISMATCH", "stored"] });
    }
  });
});
