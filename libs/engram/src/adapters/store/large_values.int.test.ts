import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { codeOf } from "../../tests/runs.js";
import { EngramStore } from "./engram_store.js";

/*
 * Chroma's server refuses a request body over 40 MiB (413 Payload Too Large). A batch's rows under
 * one first label went to Chroma in calls of up to 5,000 rows whatever their size, so a batch of
 * values that each fit (a bulk load of documents) failed as a whole with STORE_ERROR, after the
 * batch's writes under other labels had landed. And a single value too large for any request
 * failed the same way, where bad input should be refused before anything is written.
 */

const MIB = 1024 * 1024;
const embeddings = new HashEmbeddings(64);
let chroma: TestChroma;
let store: EngramStore;

beforeAll(async () => {
  chroma = await startTestChroma();
  store = new EngramStore({ chroma: { url: chroma.server.url }, prefix: "large", index: { fields: ["text"], embeddings } });
});

afterAll(async () => {
  await store?.close();
  await chroma?.stop();
});

describe("EngramStore: large values", () => {
  it("a batch of values that each fit is written, whatever their total size", async () => {
    // 48 MiB in one batch under one first label, each value 1 MiB.
    const ops = Array.from({ length: 48 }, (_, i) => ({ namespace: ["bulk", "docs"], key: `doc${i}`, value: { text: `document ${i}`, body: `${i}`.padEnd(MIB, "x") } }));
    await store.batch(ops);
    const found = await store.search(["bulk"], { limit: 100 });
    expect(found.map((item) => item.key).sort()).toEqual(ops.map((op) => op.key).sort());
    expect((await store.get(["bulk", "docs"], "doc47"))?.value.body).toBe(`47`.padEnd(MIB, "x"));
    expect((await store.search(["bulk"], { query: "document 7", limit: 1 }))[0]?.key).toBe("doc7");
  });

  it("a value too large for any request is refused with INVALID_VALUE before anything of its batch is written", async () => {
    // 41 MiB: Chroma refused the request after the batch's write under "first" had landed.
    const code = await codeOf(
      store.batch([
        { namespace: ["first", "n"], key: "small", value: { text: "a small value" } },
        { namespace: ["second", "n"], key: "huge", value: { text: "too large", body: "y".repeat(41 * MIB) } },
      ]),
    );
    expect(code).toBe("INVALID_VALUE");
    expect(await store.get(["first", "n"], "small")).toBeNull();
    expect(await store.get(["second", "n"], "huge")).toBeNull();
    // The limit is 32 MiB (validate.ts); just under it is stored.
    await store.put(["second", "n"], "large", { body: "z".repeat(30 * MIB) });
    expect(((await store.get(["second", "n"], "large"))?.value.body as string).length).toBe(30 * MIB);
  });
});
