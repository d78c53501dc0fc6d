import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { InMemoryStore, type BaseStore } from "@langchain/langgraph-checkpoint";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { EngramStore } from "./engram_store.js";

/*
 * Limits and offsets at their extremes, side by side with LangGraph's InMemoryStore. A search's
 * `limit` has no upper bound in LangGraph (`Number.MAX_SAFE_INTEGER` is a common way to say
 * "all"), but Chroma takes at most a 32-bit count of rows per call: a query with such a limit or
 * offset failed with STORE_ERROR. Likewise a filter on many fields, or an `$in` with a long list,
 * became a Chroma `where` that SQLite could not run (expression depth, bound variables).
 */

const embeddings = new HashEmbeddings(64);
let chroma: TestChroma;
let engram: EngramStore;
const reference = new InMemoryStore({ index: { fields: ["text"], embeddings, dims: 64 } });

beforeAll(async () => {
  chroma = await startTestChroma();
  engram = new EngramStore({ chroma: { url: chroma.server.url }, prefix: "extremes", index: { fields: ["text"], embeddings } });
  for (const store of [engram, reference] as BaseStore[]) {
    for (let i = 0; i < 6; i++) await store.put(["u", "notes"], `k${i}`, { text: `note ${i} about green tea`, i });
    await store.put(["u", "plain"], "p", { text: "not embedded" }, false);
    await store.put(["w", "wide"], "wide", { text: "a wide value", ...Object.fromEntries(Array.from({ length: 1_500 }, (_, i) => [`f${i}`, i])) });
    await store.put(["w", "wide"], "other", { text: "another value", f0: 0, f1: "1" });
  }
});

afterAll(async () => {
  await engram?.close();
  await chroma?.stop();
});

async function keysOf(store: BaseStore, options: Parameters<BaseStore["search"]>[1]): Promise<string[]> {
  return (await store.search(["u"], options)).map((item) => item.key);
}

describe("EngramStore search limits and offsets at their extremes, as InMemoryStore", () => {
  const huge = Number.MAX_SAFE_INTEGER;
  it.each([
    { name: "limit MAX_SAFE_INTEGER, with a query", options: { query: "green tea", limit: huge } },
    { name: "limit 2^32, with a query", options: { query: "green tea", limit: 2 ** 32 } },
    { name: "offset 5 and limit MAX_SAFE_INTEGER, with a query", options: { query: "green tea", offset: 5, limit: huge } },
    { name: "limit 0, with a query", options: { query: "green tea", limit: 0 } },
  ])("$name", async ({ options }) => {
    const expected = await keysOf(reference, options);
    const got = await keysOf(engram, options);
    // Scored items in score order (ties may order differently); the unscored item last.
    expect([...got].sort()).toEqual([...expected].sort());
    expect(got.indexOf("p")).toBe(expected.indexOf("p") === -1 ? -1 : got.length - 1);
  });

  it("limit MAX_SAFE_INTEGER without a query: every item (newest first here, insertion order there)", async () => {
    const expected = await keysOf(reference, { limit: huge });
    expect((await keysOf(engram, { limit: huge })).sort()).toEqual(expected.sort());
  });

  it("offset MAX_SAFE_INTEGER with a query: nothing (InMemoryStore re-appends its unscored items to a short page, docs/store.md)", async () => {
    expect(await keysOf(engram, { query: "green tea", offset: huge })).toEqual([]);
  });
});

describe("EngramStore filters too large for one Chroma statement, as InMemoryStore", () => {
  const many = (count: number, operand: (i: number) => unknown) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${i}`, operand(i)]));
  it.each([
    { name: "1,200 fields by equality", filter: many(1_200, (i) => i) },
    { name: "1,000 fields, $in of three types each", filter: many(1_000, (i) => ({ $in: [i, `${i}`, i % 2 === 0] })) },
    { name: "1,000 fields by range", filter: many(1_000, (i) => ({ $gte: i, $lt: i + 1 })) },
    { name: "$in with 50,000 values", filter: { f1: { $in: Array.from({ length: 50_000 }, (_, i) => i) } } },
    { name: "$in with 50,000 strings", filter: { f1: { $in: Array.from({ length: 50_000 }, (_, i) => `${i}`) } } },
  ])("$name", async ({ filter }) => {
    for (const query of [undefined, "a wide value"]) {
      const expected = (await reference.search(["w"], { filter, query })).map((item) => item.key).sort();
      const got = (await engram.search(["w"], { filter, query })).map((item) => item.key).sort();
      expect({ query, got }).toEqual({ query, got: expected });
    }
  });
});
