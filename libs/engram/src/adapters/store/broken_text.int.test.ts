import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { isEngramError } from "../../core/errors.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { EngramStore } from "./engram_store.js";

// A lone UTF-16 surrogate (an emoji cut in half by a client) in a value's top-level field name,
// or in a filter's field or text: a field name is a key of the item's Chroma row metadata and a
// filter goes into the Chroma `where`, and Chroma's JSON parser refuses a lone surrogate. The put
// failed with STORE_ERROR after the batch's other first labels were written (one bad operation
// wrote part of its batch), and the search failed with STORE_ERROR. Text inside values was
// already made safe on put; a filter's text now is too, so it finds what it was stored as.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

let chroma: TestChroma;
let store: EngramStore;
beforeAll(async () => {
  chroma = await startTestChroma();
  store = new EngramStore({ chroma: { url: chroma.server.url }, prefix: "broken", index: { fields: ["text"], embeddings: new HashEmbeddings() } });
});
afterAll(async () => {
  await store?.close();
  await chroma?.stop();
});

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "no error",
    (error: unknown) => (isEngramError(error) ? error.code : `other error: ${String(error)}`),
  );

describe("EngramStore and lone surrogates", () => {
  it("refuses a value whose field name is broken before anything of its batch is written", async () => {
    const batch = store.batch([
      { namespace: ["alice", "notes"], key: "fine", value: { text: "a fine note" } },
      { namespace: ["bob", "notes"], key: "bad", value: { ["mood\uD83D"]: "happy", text: "cut emoji" } },
    ]);
    expect(await codeOf(batch)).toBe("INVALID_VALUE");
    expect(await store.get(["alice", "notes"], "fine")).toBeNull();
    expect(await store.get(["bob", "notes"], "bad")).toBeNull();
  });

  it("a filter's text is made safe as stored text is, so it finds the item; a broken filter field is INVALID_FILTER", async () => {
    await store.put(["carol", "notes"], "cafe", { text: "caf\uD83D note", tag: "caf\uD83D" });
    const stored = await store.get(["carol", "notes"], "cafe");
    expect(stored?.value).toEqual({ text: "caf\uFFFD note", tag: "caf\uFFFD" });
    for (const filter of [{ tag: "caf\uD83D" }, { tag: { $in: ["caf\uD83D", "x"] } }, { tag: { $eq: "caf\uFFFD" } }]) {
      expect((await store.search(["carol"], { filter })).map((item) => item.key)).toEqual(["cafe"]);
      expect((await store.search(["carol"], { filter, query: "note" })).map((item) => item.key)).toEqual(["cafe"]);
    }
    expect((await store.search(["carol"], { filter: { tag: { $ne: "caf\uD83D" } } })).map((item) => item.key)).toEqual([]);
    expect(await codeOf(store.search(["carol"], { filter: { ["ta\uD83Dg"]: "x" } }))).toBe("INVALID_FILTER");
  });
});
