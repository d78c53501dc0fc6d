import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import { EngramStore } from "../adapters/store/engram_store.js";
import { EngramRetriever } from "../adapters/retriever/retriever.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Memory } from "./memory.js";

/**
 * The same kind of bad input at the other doors: the LangGraph store (`EngramStore`) and the
 * ranker weights the Memory constructor and `EngramRetriever` take. Each used to be accepted:
 * a store value whose `toJSON` gives a string or an array was stored and read back as that (not
 * an object; `null` failed with a TypeError), a store filter given as a Map matched every item and
 * one with a throwing getter threw a bare Error, and a ranker weight with a typo was ignored by
 * the Memory and made a retriever fail every call. Now each is an EngramError where it is given.
 */

const codeOf = async (run: () => Promise<unknown> | unknown): Promise<string> => {
  try {
    await run();
    return "accepted";
  } catch (error) {
    return error instanceof EngramError ? error.code : `${(error as Error).name}: ${(error as Error).message}`;
  }
};

describe("bad input at the store and ranker doors", () => {
  let chroma: TestChroma;
  let store: EngramStore;
  let memory: Memory;
  const embeddings = new HashEmbeddings();
  const ns = ["alice", "notes"];

  beforeAll(async () => {
    chroma = await startTestChroma();
    store = new EngramStore({ chroma: { url: chroma.server.url }, prefix: "inputdoors", index: { fields: ["text"], embeddings } });
    memory = new Memory({ embeddings, chroma: { url: chroma.server.url }, prefix: "inputdoorsm", dataDir: join(chroma.dir, "doors"), writes: "sync" });
    await store.put(ns, "tea", { text: "green tea every morning", topic: "tea" });
    await store.put(ns, "dog", { text: "walks the dog at seven", topic: "dog" });
    await memory.add("I drink green tea every morning", { userId: "alice" });
  }, 600_000);

  afterAll(async () => {
    await store?.close();
    await memory?.close();
    await chroma?.stop();
  });

  it("EngramStore: a value that is not an object as JSON is refused, and nothing is stored", async () => {
    const values: Array<[string, unknown]> = [
      ["toJSON gives a string", { toJSON: () => "green tea" }],
      ["toJSON gives an array", { toJSON: () => ["green", "tea"] }],
      ["toJSON gives null", { toJSON: () => null }],
      ["toJSON gives undefined", { toJSON: () => undefined }],
    ];
    const outcomes: string[] = [];
    for (const [name, value] of values) outcomes.push(`${name}: ${await codeOf(() => store.put(ns, name, value as Record<string, unknown>))}`);
    expect(outcomes).toEqual(values.map(([name]) => `${name}: INVALID_VALUE`));
    for (const [name] of values) expect(await store.get(ns, name)).toBeNull();
    expect((await store.search(["alice"], { limit: 50 })).map((item) => item.key).sort()).toEqual(["dog", "tea"]);
  }, 600_000);

  it("EngramStore: a filter given as a Map, or with a getter that throws, is refused rather than matching everything", async () => {
    const map = new Map([["topic", "nothing-has-this"]]);
    const getter = Object.defineProperty({}, "topic", {
      enumerable: true,
      get: (): never => {
        throw new Error("getter failed");
      },
    });
    expect(await codeOf(() => store.search(["alice"], { filter: map as never }))).toBe("INVALID_FILTER");
    expect(await codeOf(() => store.search(["alice"], { filter: getter as never, query: "tea" }))).toBe("INVALID_FILTER");
    // The same filter as a plain object narrows, as it should.
    expect(await store.search(["alice"], { filter: { topic: "nothing-has-this" } })).toEqual([]);
    expect((await store.search(["alice"], { filter: { topic: "tea" } })).map((item) => item.key)).toEqual(["tea"]);
  }, 600_000);

  it("a ranker weight with a typo is refused where it is given: Memory's constructor, the retriever's, and search", async () => {
    const typo = { recencyy: 0.3 } as never;
    expect(await codeOf(() => new Memory({ embeddings, chroma: { url: chroma.server.url }, dataDir: join(chroma.dir, "typo"), ranker: typo }))).toBe(
      "INVALID_OPTIONS",
    );
    expect(await codeOf(() => new EngramRetriever({ memory, ranker: typo }))).toBe("INVALID_OPTIONS");
    expect(await codeOf(() => memory.search("tea", { userId: "alice", ranker: typo }))).toBe("INVALID_OPTIONS");
    // Known weights still work at every door.
    const retriever = new EngramRetriever({ memory, ranker: { recency: 0.3 } });
    expect(await retriever.invoke("green tea", { configurable: { user_id: "alice" } })).toHaveLength(1);
  }, 600_000);
});
