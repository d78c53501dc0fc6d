import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ChromaClient } from "chromadb";
import { cosine } from "../../scoring/ranker.js";
import { collectionNameForLabel } from "../../store/langgraph/collections.js";
import { itemId } from "../../store/langgraph/rows.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { startChromaProxy, type ChromaProxy } from "../../tests/chroma_proxy.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { random } from "../../tests/interleave.js";
import { EngramStore } from "./engram_store.js";
import { interleave } from "./interleavings.js";

/*
 * Puts and deletes of one key from two replicas, their Chroma requests interleaved one at a time
 * in a seeded order (interleavings.ts). An item with several index fields has one Chroma row per
 * embedded text; a write used to learn which extra rows to replace from its read of the item,
 * made before the other replica's write landed, so a put of fewer texts (or a delete) left the
 * other put's extra rows behind: a search then scored the item by a text it no longer has, and a
 * later put of the key inherited them. Whatever the interleaving, the key must end with exactly
 * the rows of one of the two writes (the one Chroma applied last), or none after a delete.
 */

const FIELDS = ["a", "b", "c"];
const embeddings = new HashEmbeddings(64);
let chroma: TestChroma;
let raw: ChromaClient;
const proxies: ChromaProxy[] = [];
const opened: EngramStore[] = [];

type Op = { put: Record<string, string> } | { delete: true };

/** A value with `texts` index fields, words unique to `tag` so each text has its own vector. */
function value(tag: string, texts: number): Record<string, string> {
  return Object.fromEntries(FIELDS.slice(0, texts).map((field) => [field, `${tag} ${field} word${tag}${field}`]));
}

function textsOf(item: Record<string, unknown>): string[] {
  return FIELDS.flatMap((field) => (typeof item[field] === "string" ? [item[field] as string] : []));
}

beforeAll(async () => {
  chroma = await startTestChroma();
  raw = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
  for (let i = 0; i < 2; i++) proxies.push(await startChromaProxy(chroma.server.url));
});

afterAll(async () => {
  for (const store of opened) await store.close();
  for (const proxy of proxies) await proxy.close();
  await chroma?.stop();
});

function replica(prefix: string, proxy: ChromaProxy): EngramStore {
  const store = new EngramStore({ chroma: { url: proxy.url }, prefix, index: { fields: FIELDS, embeddings } });
  opened.push(store);
  return store;
}

async function run(store: EngramStore, ns: string[], op: Op): Promise<void> {
  if ("put" in op) await store.put(ns, "k", op.put);
  else await store.delete(ns, "k");
}

/** Every row of the item in Chroma: its own and its extra rows (ids starting with its id). */
async function rowsOf(prefix: string, ns: string[]): Promise<{ item?: Record<string, unknown>; extra: number }> {
  const collection = await raw.getCollection({ name: collectionNameForLabel(prefix, ns[0]!) });
  const id = itemId(ns, "k");
  const rows = await collection.get({ include: ["documents"] as never });
  let item: Record<string, unknown> | undefined;
  let extra = 0;
  rows.ids.forEach((rowId, i) => {
    if (rowId === id) item = JSON.parse(rows.documents[i]!) as Record<string, unknown>;
    else if (rowId.startsWith(id)) extra += 1;
  });
  return { item, extra };
}

describe("EngramStore: puts and deletes of one key racing from two replicas", () => {
  it("end with exactly the rows of the write applied last, in every interleaving", async () => {
    const ns = ["alice", "notes"];
    // Pairs where the order matters: a put of more texts against one of fewer, or a delete.
    const pairs: Array<[Op, Op]> = [
      [{ put: value("x", 3) }, { put: value("y", 1) }],
      [{ put: value("x", 3) }, { delete: true }],
      [{ put: value("x", 2) }, { put: value("y", 3) }],
      [{ delete: true }, { put: value("y", 2) }],
    ];
    for (let seed = 1; seed <= 32; seed++) {
      const pick = random(seed);
      const prefix = `race${seed}`;
      const [one, two] = [replica(prefix, proxies[0]!), replica(prefix, proxies[1]!)];
      const prior = seed % 3;
      // Both replicas have the collection and the model check behind them.
      await one.put(ns, "warm", { a: "warm up" });
      await two.put(ns, "warm2", { a: "warm up" });
      if (prior > 0) await one.put(ns, "k", value("p", prior));
      const ops = pairs[seed % pairs.length]!;

      const results = await interleave(proxies, [() => run(one, ns, ops[0]!), () => run(two, ns, ops[1]!)], pick);
      expect(results.map((result) => result.status)).toEqual(["fulfilled", "fulfilled"]);

      const candidates = ops.flatMap((op) => ("put" in op ? [op.put] : []));
      const { item, extra } = await rowsOf(prefix, ns);
      const where = `seed ${seed}: prior ${prior}, ops ${JSON.stringify(ops)}`;
      if (item === undefined) {
        expect({ where, extra, deleteRan: ops.some((op) => "delete" in op) }).toEqual({ where, extra: 0, deleteRan: true });
      } else {
        expect({ where, isCandidate: candidates.some((c) => JSON.stringify(c) === JSON.stringify(item)) }).toEqual({ where, isCandidate: true });
        expect({ where, extra }).toEqual({ where, extra: textsOf(item).length - 1 });
      }
      // Both replicas score the item by its own texts only, and return it once.
      const texts = [...new Set([...ops, { put: value("p", 3) }].flatMap((op) => ("put" in op ? textsOf(op.put) : [])))];
      for (const store of [one, two]) {
        for (const text of texts) {
          const found = (await store.search(ns, { query: text, limit: 10 })).filter((hit) => hit.key === "k");
          const query = await embeddings.embedQuery(text);
          const expected = item === undefined ? [] : [Math.max(...(await embeddings.embedDocuments(textsOf(item))).map((v) => cosine(query, v)))];
          expect({ where, text, scores: found.map((hit) => Number(hit.score?.toFixed(5))) }).toEqual({
            where,
            text,
            scores: expected.map((score) => Number(score.toFixed(5))),
          });
        }
      }
    }
  });
});

describe("EngramStore: a search while a replaced put's extra rows still wait for their delete", () => {
  it("scores the item by its current texts only", async () => {
    const ns = ["alice", "notes"];
    const [one, two] = [replica("window", proxies[0]!), replica("window", proxies[1]!)];
    await one.put(ns, "k", value("x", 3));
    // The second put has landed its item row; its cleanup of the first put's extra rows is held.
    const cleanup = proxies[1]!.hold((request) => request.path.endsWith("/get") && request.body.includes('"_item"'));
    const putting = two.put(ns, "k", value("y", 1));
    await cleanup.arrived;
    const query = "x b wordxb";
    const [hit] = (await one.search(ns, { query, limit: 1 })).filter((item) => item.key === "k");
    cleanup.release();
    await putting;
    const expected = cosine(await embeddings.embedQuery(query), (await embeddings.embedDocuments([value("y", 1).a!]))[0]!);
    expect({ value: hit?.value, score: hit?.score?.toFixed(5) }).toEqual({ value: value("y", 1), score: expected.toFixed(5) });
    expect(await rowsOf("window", ns)).toEqual({ item: value("y", 1), extra: 0 });
  });
});

describe("EngramStore: two puts of one key with different fields, from two replicas", () => {
  it("the filters see the value that landed last, never a field of the other", async () => {
    const ns = ["alice", "notes"];
    const [one, two] = [replica("fields", proxies[0]!), replica("fields", proxies[1]!)];
    await one.put(ns, "other", { a: "another item", status: "open" });
    // Both read the key (absent) before either writes; the second replica's put lands last.
    const late = proxies[1]!.hold((request) => request.path.endsWith("/upsert"));
    const putting = two.put(ns, "k", { a: "y last", tags: "x" });
    await late.arrived;
    await one.put(ns, "k", { a: "x first", status: "done", rank: 3 });
    late.release();
    await putting;
    expect((await one.get(ns, "k"))?.value).toEqual({ a: "y last", tags: "x" });
    // The value has no status and no rank: it passes $ne and $nin, as in InMemoryStore.
    for (const filter of [{ status: { $ne: "done" } }, { status: { $nin: ["done", "open"] } }, { rank: { $ne: 3 } }, { rank: { $nin: [3] } }]) {
      for (const query of [undefined, "y last"]) {
        const keys = (await two.search(ns, { filter, query })).map((item) => item.key).filter((key) => key === "k");
        expect({ filter, query, keys }).toEqual({ filter, query, keys: ["k"] });
      }
    }
    expect((await two.search(ns, { filter: { status: "done" } })).map((item) => item.key)).toEqual([]);
  });
});

describe("EngramStore: a put racing the TTL sweep of the item it replaces, from two replicas", () => {
  it("keeps the put's item and its rows, in every interleaving", async () => {
    const ns = ["alice", "notes"];
    for (let seed = 1; seed <= 12; seed++) {
      const pick = random(1_000 + seed);
      const clock = { now: 1_700_000_000_000 };
      const prefix = `sweep${seed}`;
      const make = (proxy: ChromaProxy): EngramStore => {
        const store = new EngramStore({ chroma: { url: proxy.url }, prefix, index: { fields: FIELDS, embeddings }, clock: () => clock.now });
        opened.push(store);
        return store;
      };
      const [sweeper, writer] = [make(proxies[0]!), make(proxies[1]!)];
      await sweeper.put(ns, "warm", { a: "warm up" });
      await writer.put(ns, "k", value("p", 3), undefined, { ttl: 1 });
      clock.now += 2 * 60_000;
      const fresh = value("y", 1 + (seed % 3));
      const results = await interleave(proxies, [() => sweeper.sweep(), () => writer.put(ns, "k", fresh, undefined, { ttl: null })], pick);
      const where = `seed ${seed}`;
      expect({ where, results: results.map((result) => result.status) }).toEqual({ where, results: ["fulfilled", "fulfilled"] });
      expect({ where, swept: [0, 1].includes((results[0] as PromiseFulfilledResult<number>).value) }).toEqual({ where, swept: true });
      expect({ where, rows: await rowsOf(prefix, ns) }).toEqual({ where, rows: { item: fresh, extra: textsOf(fresh).length - 1 } });
      expect(await sweeper.sweep()).toBe(0);
      expect((await sweeper.get(ns, "k"))?.value).toEqual(fresh);
    }
  });
});
