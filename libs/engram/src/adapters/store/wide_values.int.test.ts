import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ChromaClient } from "chromadb";
import { LocalEmbeddings } from "../../embeddings/local.js";
import { collectionNameForLabel } from "../../store/langgraph/collections.js";
import { itemId } from "../../store/langgraph/rows.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { EngramStore } from "./engram_store.js";
import { codeOf } from "../../tests/runs.js";

/*
 * Chroma 1.0 writes one row's metadata to its SQLite metadata segment in one statement, and a row
 * with more than 5,460 metadata keys exceeds SQLite's 32,766 bound variables: the write is taken
 * into Chroma's log, the compaction that applies it fails, and from then on every get, put and
 * delete of that collection fails ("Failed to apply logs to the metadata segment"), also after a
 * restart. An EngramStore item's row holds one or two filter shadows per top-level field of its
 * value and one key per namespace label, so a wide value or a deep namespace would lose its whole
 * first label; and the shadows of fields an update dropped must not pile up on the row.
 */

const embeddings = new LocalEmbeddings();
let chroma: TestChroma;
let raw: ChromaClient;
const opened: EngramStore[] = [];

function makeStore(prefix: string): EngramStore {
  const store = new EngramStore({ chroma: { url: chroma.server.url }, prefix, index: { fields: ["text"], embeddings } });
  opened.push(store);
  return store;
}

/** Numeric fields named `<tag>0`...: each gets two shadows (`v:` and `n:`). */
function wide(tag: string, fields: number): Record<string, unknown> {
  return Object.fromEntries(Array.from({ length: fields }, (_, i) => [`${tag}${i}`, i]));
}

/** The label's items still answer a get, a put, a search and a delete. */
async function expectLabelWorks(store: EngramStore, label: string): Promise<void> {
  expect((await store.get([label, "m"], "tea"))?.value.text).toBe("Alice drinks green tea");
  await store.put([label, "m"], "after", { text: "Alice walks her dog at noon" });
  expect((await store.search([label], { query: "what does she drink", limit: 1 }))[0]?.key).toBe("tea");
  await store.delete([label, "m"], "after");
  expect(await store.get([label, "m"], "after")).toBeNull();
}

beforeAll(async () => {
  chroma = await startTestChroma();
  raw = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
});

afterAll(async () => {
  for (const store of opened) await store.close();
  await embeddings.close();
  await chroma?.stop();
});

describe("EngramStore values and namespaces too wide for one Chroma row", () => {
  it("refuses a value with too many top-level fields before writing, and the label keeps working", async () => {
    const store = makeStore("wide1");
    await store.put(["alice", "m"], "tea", { text: "Alice drinks green tea" });
    expect(await codeOf(store.put(["alice", "m"], "wide", { text: "a wide value", ...wide("f", 3_000) }))).toBe("INVALID_VALUE");
    expect(await store.get(["alice", "m"], "wide")).toBeNull();
    await expectLabelWorks(store, "alice");
    // As wide as allowed is stored and filterable.
    await store.put(["alice", "m"], "widest", { text: "the widest value", ...wide("f", 1_999) });
    expect((await store.search(["alice"], { filter: { f1998: 1_998 } })).map((item) => item.key)).toEqual(["widest"]);
    await expectLabelWorks(store, "alice");
  });

  it("refuses a namespace with too many labels before writing, and the label keeps working", async () => {
    const store = makeStore("wide2");
    await store.put(["alice", "m"], "tea", { text: "Alice drinks green tea" });
    const deep = ["alice", ...Array.from({ length: 6_000 }, (_, i) => `l${i}`)];
    expect(await codeOf(store.put(deep, "k", { text: "deep" }))).toBe("INVALID_NAMESPACE");
    await expectLabelWorks(store, "alice");
  });

  it("removes the shadows of fields an update dropped: rewriting an item with new field names never fills its row", async () => {
    const store = makeStore("wide3");
    await store.put(["alice", "m"], "tea", { text: "Alice drinks green tea" });
    // Each value is well within the limit; their field names differ every round (a log keyed by day).
    for (let round = 0; round < 6; round++) {
      await store.put(["alice", "m"], "log", { text: "daily log", round, ...wide(`r${round}d`, 800) });
    }
    expect((await store.get(["alice", "m"], "log"))?.value.round).toBe(5);
    expect((await store.search(["alice"], { filter: { r0d1: 1 } })).map((item) => item.key)).toEqual([]);
    expect((await store.search(["alice"], { filter: { r5d1: 1 } })).map((item) => item.key)).toEqual(["log"]);
    expect((await store.search(["alice"], { filter: { r0d1: { $ne: 1 } } })).map((item) => item.key).sort()).toEqual(["log", "tea"]);
    const collection = await raw.getCollection({ name: collectionNameForLabel("wide3", "alice") });
    const row = await collection.get({ ids: [itemId(["alice", "m"], "log")], include: ["metadatas"] as never });
    expect(Object.keys(row.metadatas[0] ?? {}).filter((key) => key.startsWith("v:r0") || key.startsWith("n:r0"))).toEqual([]);
    await expectLabelWorks(store, "alice");
  });
});
