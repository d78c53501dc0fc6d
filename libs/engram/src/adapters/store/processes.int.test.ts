import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ChromaClient } from "chromadb";
import { fileURLToPath } from "node:url";
import { cosine } from "../../scoring/ranker.js";
import { collectionNameForLabel } from "../../store/langgraph/collections.js";
import { itemId } from "../../store/langgraph/rows.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { startScriptPeer, type KillablePeer } from "../../tests/peers.js";
import type { StormOptions, StorePeerOptions } from "./store_peer.js";

/*
 * Three processes, each with its own EngramStore on one Chroma server, put and delete the same
 * few keys at once (four calls in flight in each), with one to three indexed fields per value.
 * However their writes interleave, each key must end with exactly the rows of one value, and every
 * process must score each item by that value's texts only, and filter it by that value's fields (key_race.int.test.ts places the
 * interleavings one request at a time; this is the same promise under real, unplaced
 * concurrency).
 */

const FIELDS = ["a", "b", "c"];
const TEXTS = Array.from({ length: 8 }, (_, i) => `text${i} word${i} other${i}`);
const KEYS = ["k0", "k1", "k2"];
const NS = ["alice", "shared"];
const PEER = fileURLToPath(new URL("./store_peer.ts", import.meta.url));
const embeddings = new HashEmbeddings(64);
let chroma: TestChroma;
const peers: KillablePeer[] = [];

beforeAll(async () => {
  chroma = await startTestChroma();
});

afterAll(async () => {
  for (const peer of peers) await peer.close();
  await chroma?.stop();
});

describe("EngramStore: puts and deletes of the same keys from three processes at once", () => {
  it("every key ends with exactly one value's rows, and every process scores it by that value", async () => {
    const options: StorePeerOptions = { chromaUrl: chroma.server.url, prefix: "procs", fields: FIELDS };
    for (let i = 0; i < 3; i++) peers.push(startScriptPeer(PEER, options));
    // Each has made the collection and passed the model check before the storm.
    for (const [i, peer] of peers.entries()) await peer.call("storm", { seed: 90 + i, namespace: NS, keys: [`warm${i}`], texts: TEXTS, ops: 1, workers: 1 });

    const raw = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
    // Rounds: each ends with the last writes of every key racing, and is checked once all are done.
    for (let round = 1; round <= 4; round++) {
      const done = await Promise.all(
        peers.map((peer, i) =>
          peer.call<number>("storm", { seed: round * 10 + i, namespace: NS, keys: KEYS, texts: TEXTS, ops: 6, workers: 4 } satisfies StormOptions),
        ),
      );
      expect(done).toEqual([24, 24, 24]);
      await expectSettled(raw, round);
    }
  });
});

/** Each key has the rows of one value only, and every process scores it by that value's texts. */
async function expectSettled(raw: ChromaClient, round: number): Promise<void> {
  const collection = await raw.getCollection({ name: collectionNameForLabel("procs", NS[0]!) });
  const rows = await collection.get({ include: ["documents", "metadatas"] as never });
  const finals = new Map<string, Record<string, unknown>>();
  for (const key of KEYS) {
    const id = itemId(NS, key);
    const at = rows.ids.indexOf(id);
    const extra = rows.ids.filter((rowId, i) => rowId !== id && rows.metadatas[i]?._item === id);
    if (at === -1) {
      expect({ round, key, extra }).toEqual({ round, key, extra: [] });
      continue;
    }
    const value = JSON.parse(rows.documents[at]!) as Record<string, unknown>;
    finals.set(key, value);
    const gens = extra.map((rowId) => rows.metadatas[rows.ids.indexOf(rowId)]?._gen);
    expect({ round, key, extra: extra.length, sameGen: gens.every((gen) => gen === rows.metadatas[at]?._gen) }).toEqual({
      round,
      key,
      extra: textsOf(value).length - 1,
      sameGen: true,
    });
  }
  for (const peer of peers) {
    // Each put has one of three marker fields: the others are missing, which passes $ne.
    for (const marker of ["only0", "only1", "only2"]) {
      const hits = await peer.call<Array<{ key: string }>>("search", NS, { filter: { [marker]: { $ne: "x" } }, limit: 100 });
      const expected = [...finals].filter(([, value]) => !(marker in value)).map(([key]) => key);
      expect({ round, marker, keys: hits.map((hit) => hit.key).filter((key) => KEYS.includes(key)).sort() }).toEqual({ round, marker, keys: expected.sort() });
    }
    for (const query of TEXTS) {
      const hits = await peer.call<Array<{ key: string; score?: number }>>("search", NS, { query, limit: 10 });
      const got = hits.filter((hit) => KEYS.includes(hit.key)).map((hit) => [hit.key, hit.score?.toFixed(4)]);
      const q = await embeddings.embedQuery(query);
      const expected: Array<[string, string]> = [];
      for (const [key, value] of finals) {
        expected.push([key, Math.max(...(await embeddings.embedDocuments(textsOf(value))).map((v) => cosine(q, v))).toFixed(4)]);
      }
      expect({ round, query, scores: Object.fromEntries(got) }).toEqual({ round, query, scores: Object.fromEntries(expected) });
    }
  }
}

function textsOf(value: Record<string, unknown>): string[] {
  return [...new Set(FIELDS.flatMap((field) => (typeof value[field] === "string" ? [value[field] as string] : [])))];
}
