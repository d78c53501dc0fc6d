import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ChromaClient, type Metadata } from "chromadb";
import { cosine } from "../../scoring/ranker.js";
import { collectionNameForLabel } from "../../store/langgraph/collections.js";
import { itemId } from "../../store/langgraph/rows.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { EngramStore } from "./engram_store.js";

/*
 * Items written before put generations (rows.ts): extra rows with ids `<item>:<n>`, no `_gen` on
 * any row, and the item row counting them in `_extra`. A store of this version must score them by
 * those rows, and its puts, deletes and sweeps must replace or remove them.
 */

const FIELDS = ["a", "b", "c"];
const embeddings = new HashEmbeddings(64);
let chroma: TestChroma;
let raw: ChromaClient;
const opened: EngramStore[] = [];
const NS = ["alice", "notes"];
const MINUTE = 60_000;

beforeAll(async () => {
  chroma = await startTestChroma();
  raw = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
});

afterAll(async () => {
  for (const store of opened) await store.close();
  await chroma?.stop();
});

const clock = { now: 1_700_000_000_000 };

function open(prefix: string): EngramStore {
  const store = new EngramStore({ chroma: { url: chroma.server.url }, prefix, index: { fields: FIELDS, embeddings }, clock: () => clock.now });
  opened.push(store);
  return store;
}

/** Rewrites the key's rows as the earlier version wrote them. */
async function makeLegacy(prefix: string, key: string): Promise<void> {
  const collection = await raw.getCollection({ name: collectionNameForLabel(prefix, NS[0]!) });
  const id = itemId(NS, key);
  const rows = await collection.get({ include: ["documents", "metadatas", "embeddings"] as never });
  const mine = rows.ids.flatMap((rowId, i) => (rowId === id || rows.metadatas[i]?._item === id ? [i] : []));
  await collection.delete({ ids: mine.map((i) => rows.ids[i]!) });
  const extra = mine.filter((i) => rows.ids[i] !== id);
  const legacy = (i: number): Metadata => Object.fromEntries(Object.entries(rows.metadatas[i] ?? {}).filter(([k]) => k !== "_gen")) as Metadata;
  const item = mine.find((i) => rows.ids[i] === id)!;
  await collection.add({
    ids: [id, ...extra.map((_, n) => `${id}:${n + 1}`)],
    embeddings: [item, ...extra].map((i) => Array.from(rows.embeddings![i] as ArrayLike<number>)),
    documents: [item, ...extra].map((i) => rows.documents[i] ?? ""),
    metadatas: [{ ...legacy(item), _extra: extra.length }, ...extra.map(legacy)],
  });
}

async function rowIdsOf(prefix: string, key: string): Promise<string[]> {
  const collection = await raw.getCollection({ name: collectionNameForLabel(prefix, NS[0]!) });
  const id = itemId(NS, key);
  return (await collection.get({ include: [] as never })).ids.filter((rowId) => rowId.startsWith(id));
}

async function score(store: EngramStore, key: string, query: string): Promise<string | undefined> {
  return (await store.search(NS, { query, limit: 10 })).find((item) => item.key === key)?.score?.toFixed(4);
}

async function expected(texts: string[], query: string): Promise<string> {
  const q = await embeddings.embedQuery(query);
  return Math.max(...(await embeddings.embedDocuments(texts)).map((v) => cosine(q, v))).toFixed(4);
}

describe("EngramStore over items written before put generations", () => {
  it("scores them by their rows, and a put, a delete and a sweep replace or remove every one", async () => {
    const store = open("legacy");
    const three = { a: "alpha apple", b: "beta banana", c: "gamma grape" };
    for (const key of ["put", "del", "swept"]) await store.put(NS, key, three, undefined, { ttl: key === "swept" ? 1 : null });
    for (const key of ["put", "del", "swept"]) await makeLegacy("legacy", key);
    expect((await rowIdsOf("legacy", "put")).length).toBe(3);

    for (const query of ["beta banana", "gamma grape"]) expect(await score(store, "put", query)).toBe(await expected(Object.values(three), query));

    await store.put(NS, "put", { a: "delta date" });
    expect(await rowIdsOf("legacy", "put")).toEqual([itemId(NS, "put")]);
    expect(await score(store, "put", "gamma grape")).toBe(await expected(["delta date"], "gamma grape"));

    await store.delete(NS, "del");
    expect(await rowIdsOf("legacy", "del")).toEqual([]);

    clock.now += 2 * MINUTE;
    expect(await store.sweep()).toBe(1);
    expect(await rowIdsOf("legacy", "swept")).toEqual([]);
  });
});

describe("EngramStore during a rolling upgrade: a replica of the earlier version puts over an item this version wrote", () => {
  it("scores the item by the earlier version's rows only, and the next put replaces them all", async () => {
    const store = open("rolling");
    await store.put(NS, "k", { a: "alpha apple", b: "beta banana", c: "gamma grape" });
    // The earlier version's put of { a, b }: its item row has no `_gen` (Chroma's merge keeps this
    // version's) and counts one extra row, `<item>:1`; it knows nothing of this version's extra rows.
    const collection = await raw.getCollection({ name: collectionNameForLabel("rolling", NS[0]!) });
    const id = itemId(NS, "k");
    const before = await collection.get({ ids: [id], include: ["metadatas"] as never });
    const meta = Object.fromEntries(Object.entries(before.metadatas[0] ?? {}).filter(([key]) => key !== "_gen")) as Metadata;
    const old = { a: "old apricot", b: "old blueberry" };
    const [va, vb] = await embeddings.embedDocuments([old.a, old.b]);
    await collection.upsert({ ids: [id], embeddings: [va!], documents: [JSON.stringify(old)], metadatas: [{ ...meta, _extra: 1 }] });
    await collection.add({ ids: [`${id}:1`], embeddings: [vb!], documents: [""], metadatas: [{ _row: "vec", _vec: true, _item: id, _depth: 2, _ns1: NS[1]! }] });

    expect((await store.get(NS, "k"))?.value).toEqual(old);
    for (const query of ["gamma grape", "beta banana", "old blueberry"]) expect(await score(store, "k", query)).toBe(await expected(Object.values(old), query));

    await store.put(NS, "k", { a: "delta date", b: "epsilon elderberry" });
    const left = await rowIdsOf("rolling", "k");
    expect(left.length).toBe(2);
    expect(left).not.toContain(`${id}:1`);
    for (const query of ["gamma grape", "old blueberry", "epsilon elderberry"]) {
      expect(await score(store, "k", query)).toBe(await expected(["delta date", "epsilon elderberry"], query));
    }
  });
});
