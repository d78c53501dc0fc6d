import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from "@jest/globals";
import fc from "fast-check";
import { ChromaClient } from "chromadb";
import { InMemoryStore } from "@langchain/langgraph";
import { LocalEmbeddings } from "../../embeddings/local.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { collectionNameForLabel } from "../../store/langgraph/collections.js";
import { EngramStore } from "./engram_store.js";
import type { EngramStoreOptions } from "../../store/langgraph/options.js";
import { codeOf } from "../../tests/runs.js";

const embeddings = new LocalEmbeddings();
let chroma: TestChroma;
let raw: ChromaClient;
const opened: EngramStore[] = [];
let stores = 0;
const MINUTE = 60_000;

/** A fresh store (its own collection prefix) on the test server, with a clock the test moves. */
function makeStore(options: Omit<EngramStoreOptions, "chroma" | "prefix"> = {}): { store: EngramStore; prefix: string; clock: { now: number } } {
  stores += 1;
  const prefix = `es${stores}`;
  const clock = { now: 1_700_000_000_000 };
  const store = new EngramStore({
    chroma: { url: chroma.server.url },
    prefix,
    index: { fields: ["text"], embeddings },
    clock: () => clock.now,
    ...options,
  });
  opened.push(store);
  return { store, prefix, clock };
}

/** Rows Chroma holds under a prefix (all of the store's collections). */
async function rawRows(prefix: string): Promise<number> {
  let rows = 0;
  for (const collection of await raw.listCollections({ limit: 1000 })) {
    if (collection.name.startsWith(`${prefix}-`)) rows += await collection.count();
  }
  return rows;
}

async function rawCollections(prefix: string): Promise<string[]> {
  return (await raw.listCollections({ limit: 1000 })).map((c) => c.name).filter((name) => name.startsWith(`${prefix}-`)).sort();
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

describe("EngramStore on a real Chroma server", () => {
  it("returns a search without a query newest update first", async () => {
    const { store, clock } = makeStore({ index: false });
    await store.put(["n"], "a", { v: 1 });
    clock.now += 1_000;
    await store.put(["n"], "b", { v: 2 });
    clock.now += 1_000;
    await store.put(["n"], "c", { v: 3 });
    clock.now += 1_000;
    await store.put(["n"], "a", { v: 4 });
    expect((await store.search(["n"])).map((item) => item.key)).toEqual(["a", "c", "b"]);
    const a = await store.get(["n"], "a");
    expect(a!.updatedAt.getTime() - a!.createdAt.getTime()).toBe(3_000);
  });

  it("keeps one collection per first label, named by a hash, and never mixes labels", async () => {
    const { store, prefix } = makeStore({ index: false });
    await store.put(["alice", "memories"], "k", { who: "alice" });
    await store.put(["alice", "prefs"], "k", { who: "alice" });
    await store.put(["bob", "memories"], "k", { who: "bob" });
    const names = await rawCollections(prefix);
    expect(names).toEqual([collectionNameForLabel(prefix, "alice"), collectionNameForLabel(prefix, "bob")].sort());
    expect(names.join(" ")).not.toMatch(/alice|bob/);
    expect((await store.search(["alice"])).map((item) => item.value.who)).toEqual(["alice", "alice"]);
    expect((await store.search(["bob"])).map((item) => item.value.who)).toEqual(["bob"]);
  });

  it("keeps its data in Chroma: a second store on the same server and prefix reads it", async () => {
    const { store, prefix } = makeStore();
    await store.put(["alice", "memories"], "trip", { text: "Alice is planning a trip to Japan in April" });
    const again = new EngramStore({ chroma: { url: chroma.server.url }, prefix, index: { fields: ["text"], embeddings } });
    opened.push(again);
    expect((await again.get(["alice", "memories"], "trip"))!.value.text).toBe("Alice is planning a trip to Japan in April");
    expect((await again.search(["alice"], { query: "travel plans" }))[0]!.key).toBe("trip");
  });

  it("scores an item with several embedded fields by its best one, once, and drops extra rows on update", async () => {
    const { store, prefix } = makeStore({ index: { fields: ["title", "notes[*]"], embeddings } });
    await store.put(["m"], "report", { title: "Quarterly accounting report", notes: ["We went hiking in the Alps", "Budget is on track"] });
    await store.put(["m"], "recipe", { title: "Tomato soup recipe", notes: ["Simmer for twenty minutes"] });
    expect(await rawRows(prefix)).toBe(5);
    const results = await store.search(["m"], { query: "mountain walking holiday" });
    expect(results.map((item) => item.key)).toEqual(["report", "recipe"]);
    await store.put(["m"], "report", { title: "Quarterly accounting report", notes: [] });
    expect(await rawRows(prefix)).toBe(3);
    expect((await store.search(["m"], { query: "mountain walking holiday" }))[0]!.key).toBe("recipe");
    await store.delete(["m"], "recipe");
    expect(await rawRows(prefix)).toBe(1);
  });

  it("writes 1,200 items in one batch and pages past Chroma's first scan page", async () => {
    const { store } = makeStore({ index: false });
    const puts = Array.from({ length: 1_200 }, (_, i) => ({ namespace: ["bulk", `g${i % 3}`], key: `k${i}`, value: { i, even: i % 2 === 0 } }));
    await store.batch(puts);
    expect(await store.search(["bulk"], { limit: 5, offset: 1_195 })).toHaveLength(5);
    const evens = await store.search(["bulk"], { filter: { even: true, i: { $gte: 1_190 } }, limit: 100 });
    expect(evens.map((item) => item.value.i).sort((a, b) => a - b)).toEqual([1_190, 1_192, 1_194, 1_196, 1_198]);
    expect(await store.listNamespaces()).toEqual([["bulk", "g0"], ["bulk", "g1"], ["bulk", "g2"]]);
  });

  it("filters exactly as InMemoryStore: every operator with every operand type, through updates that drop fields, with and without a query", async () => {
    const { store } = makeStore();
    const oracle = new InMemoryStore();
    const texts = ["walking in the hills", "cooking pasta", "reading novels", "playing chess", "swimming laps"];
    // Every kind of field value once (integers next to the float operands Chroma truncates),
    // then random values; then updates, some of which drop or retype a field.
    const kinds: unknown[] = [-2, -1, 0, 1, 2, 3, 0.5, 1.5, -1.5, 2.5, 1e20, "a", "", "2", " 3 ", true, false, null, [1], ["2"], [1, 2], { n: 1 }];
    const field = fc.constantFrom(...kinds);
    const fixed = kinds.map((kind, i) => ({ p: kind, q: kinds[(i * 7) % kinds.length] }));
    const randomValues = fc.sample(fc.dictionary(fc.constantFrom("p", "q", "r"), field, { maxKeys: 3 }), { numRuns: 30, seed: 7 });
    const first = [...fixed, ...randomValues].map((value, i) => ({ key: `k${i}`, value: { ...value, text: texts[i % texts.length]! } }));
    const second = [
      { key: "k3", value: { q: "a", text: "dropped p" } },
      { key: "k6", value: { p: "x", text: "p retyped" } },
      { key: "k11", value: { p: 1, text: "p now a number" } },
      { key: "k15", value: { text: "dropped both" } },
      ...fc.sample(fc.dictionary(fc.constantFrom("p", "q", "r"), field, { maxKeys: 2 }), { numRuns: 12, seed: 8 })
        .map((value, i) => ({ key: `k${i * 3 + 1}`, value: { ...value, text: texts[i % texts.length]! } })),
    ];
    for (const batch of [first, second]) {
      for (const { key, value } of batch) await oracle.put(["r"], key, value);
      await store.batch(batch.map(({ key, value }) => ({ namespace: ["r"], key, value })));
    }

    const operands: unknown[] = [-2, -1, 0, 1, 2, 0.5, 1.5, -1.5, 2.5, 1e20, "a", "", "2", true, false, null];
    const filters: Array<Record<string, unknown>> = [];
    for (const operand of operands) {
      filters.push({ p: operand });
      for (const op of ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]) filters.push({ p: { [op]: operand } });
      filters.push({ p: { $in: [operand] } }, { p: { $nin: [operand] } }, { p: { $in: [operand, 2] } }, { p: { $nin: [operand, "a"] } });
    }
    const scalar = fc.constantFrom(...operands);
    const op = fc.oneof(
      scalar,
      fc.record({ $ne: scalar }),
      fc.record({ $gte: scalar, $lt: scalar }),
      fc.record({ $in: fc.array(scalar, { minLength: 1, maxLength: 3 }) }),
      fc.record({ $nin: fc.array(scalar, { minLength: 1, maxLength: 3 }) }),
    );
    filters.push(...fc.sample(fc.dictionary(fc.constantFrom("p", "q", "r"), op, { minKeys: 2, maxKeys: 3 }), { numRuns: 40, seed: 9 }));

    for (const [n, filter] of filters.entries()) {
      const expected = (await oracle.search(["r"], { filter, limit: 100 })).map((item) => item.key).sort();
      const query = n % 5 === 0 ? "outdoor exercise" : undefined;
      const actual = await store.search(["r"], { filter, limit: 100, query });
      expect({ filter, query, keys: actual.map((item) => item.key).sort() }).toEqual({ filter, query, keys: expected });
      if (query) expect(actual.every((item) => typeof item.score === "number")).toBe(true);
    }
  });

  it("refuses bad namespaces, TTLs and values with a typed error, writing nothing", async () => {
    const { store, prefix } = makeStore();
    expect(await codeOf(store.put([], "k", { text: "x" }))).toBe("INVALID_NAMESPACE");
    expect(await codeOf(store.put([""], "k", { text: "x" }))).toBe("INVALID_NAMESPACE");
    expect(await codeOf(store.put(["alice", ""], "k", { text: "x" }))).toBe("INVALID_NAMESPACE");
    expect(await codeOf(store.put(["alice.smith"], "k", { text: "x" }))).toBe("INVALID_NAMESPACE");
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "30" as unknown as number]) {
      expect(await codeOf(store.put(["alice"], "k", { text: "x" }, undefined, { ttl }))).toBe("INVALID_TTL");
    }
    expect(await codeOf(store.put(["alice"], "k", new Date() as unknown as Record<string, unknown>))).toBe("INVALID_VALUE");
    expect(await codeOf(store.batch([
      { namespace: ["alice"], key: "good", value: { text: "fine" } },
      { namespace: ["alice", "x.y"], key: "bad", value: { text: "x" } },
    ]))).toBe("INVALID_NAMESPACE");
    expect(await rawCollections(prefix)).toEqual([]);
    expect(await store.listNamespaces()).toEqual([]);
  });
});

describe("EngramStore TTL (minutes, as LangGraph's Python stores)", () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it("never returns an expired item: not by get, search, a query or listNamespaces", async () => {
    const { store, clock } = makeStore({ ttl: { defaultTtl: 10, refreshOnRead: false } });
    await store.put(["u", "mem"], "short", { text: "I like green tea" });
    await store.put(["u", "mem"], "forever", { text: "I like black coffee" }, undefined, { ttl: null });
    await store.put(["u", "other"], "long", { text: "I like hot chocolate" }, undefined, { ttl: 60 });
    clock.now += 9 * MINUTE;
    expect(await store.get(["u", "mem"], "short")).not.toBeNull();
    clock.now += 1 * MINUTE + 1;
    expect(await store.get(["u", "mem"], "short")).toBeNull();
    expect((await store.search(["u"])).map((item) => item.key).sort()).toEqual(["forever", "long"]);
    expect((await store.search(["u"], { query: "tea" })).map((item) => item.key).sort()).toEqual(["forever", "long"]);
    clock.now += 60 * MINUTE;
    expect(await store.listNamespaces()).toEqual([["u", "mem"]]);
    expect((await store.search(["u"])).map((item) => item.key)).toEqual(["forever"]);
  });

  it("restarts an item's TTL when get or search reads it, unless refreshTtl is false", async () => {
    const { store, clock } = makeStore({ ttl: { defaultTtl: 10 } });
    await store.put(["u"], "read", { text: "read often" });
    await store.put(["u"], "searched", { text: "found often" });
    await store.put(["u"], "peeked", { text: "looked at without refresh" });
    clock.now += 8 * MINUTE;
    expect(await store.get(["u"], "read")).not.toBeNull();
    expect((await store.search(["u"], { filter: { text: "found often" } })).map((item) => item.key)).toEqual(["searched"]);
    expect(await store.get(["u"], "peeked", { refreshTtl: false })).not.toBeNull();
    clock.now += 8 * MINUTE; // 16 minutes after the put, 8 after the reads
    expect(await store.get(["u"], "read")).not.toBeNull();
    expect(await store.get(["u"], "searched")).not.toBeNull();
    expect(await store.get(["u"], "peeked")).toBeNull();
    clock.now += 11 * MINUTE;
    expect(await store.get(["u"], "read")).toBeNull();
  });

  it("sweep() deletes expired items' rows from Chroma, extra vector rows included", async () => {
    const { store, clock, prefix } = makeStore({ index: { fields: ["text", "more"], embeddings }, ttl: { defaultTtl: 5 } });
    await store.put(["u"], "two-vectors", { text: "expires soon", more: "a second embedded field" });
    await store.put(["u"], "kept", { text: "stays" }, undefined, { ttl: 60 });
    expect(await rawRows(prefix)).toBe(3);
    expect(await store.sweep()).toBe(0);
    clock.now += 6 * MINUTE;
    expect(await store.sweep()).toBe(1);
    expect(await rawRows(prefix)).toBe(1);
    expect(await store.get(["u"], "kept")).not.toBeNull();
  });

  it("a put over an expired item that was never swept starts a new item", async () => {
    const { store, clock } = makeStore({ ttl: { defaultTtl: 1 } });
    await store.put(["u"], "k", { text: "first life" });
    const born = clock.now;
    clock.now += 2 * MINUTE;
    await store.put(["u"], "k", { text: "second life" });
    const item = await store.get(["u"], "k");
    expect(item!.createdAt.getTime()).toBe(born + 2 * MINUTE);
  });

  it("sweeps on a timer only when sweepIntervalMinutes is set, from first use until stop()", async () => {
    jest.useFakeTimers({ doNotFake: ["Date", "hrtime", "nextTick", "performance", "queueMicrotask", "setImmediate", "clearImmediate", "setTimeout", "clearTimeout"] });
    const plain = makeStore({ ttl: { defaultTtl: 1 } }).store;
    await plain.put(["u"], "k", { text: "no timer" });
    expect(jest.getTimerCount()).toBe(0);

    let reported: (outcome: unknown) => void = () => {};
    const outcome = new Promise((resolve) => {
      reported = resolve;
    });
    const { store, clock, prefix } = makeStore({ ttl: { defaultTtl: 1, sweepIntervalMinutes: 5, onSweep: (o) => reported(o) } });
    expect(jest.getTimerCount()).toBe(0); // the constructor starts nothing
    await store.put(["u"], "k", { text: "swept by the timer" });
    expect(jest.getTimerCount()).toBe(1);
    clock.now += 2 * MINUTE;
    jest.advanceTimersByTime(5 * MINUTE);
    expect(await outcome).toEqual({ deleted: 1 });
    expect(await rawRows(prefix)).toBe(0);
    store.stop();
    expect(jest.getTimerCount()).toBe(0);
    await store.put(["u"], "k2", { text: "after stop: still usable, no timer" });
    expect(jest.getTimerCount()).toBe(0);
    await store.start();
    expect(jest.getTimerCount()).toBe(1);
    await store.close();
    expect(jest.getTimerCount()).toBe(0);
  });
});
