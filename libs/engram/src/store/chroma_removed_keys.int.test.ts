import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { ChromaClient, type Collection } from "chromadb";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { startChromaProxy, type ChromaProxy } from "../tests/chroma_proxy.js";
import { upsertRows } from "./chroma_upsert.js";

/*
 * Chroma merges an upsert's metadata into the stored row's. `upsertRows` removes the keys it is
 * told are gone: sent as null in the same upsert (the server removes them), so the row is never
 * missing in between; only on the client's own path, which leaves nulls out, is it deleted first.
 * Requests go through a proxy that logs them (tests/chroma_proxy.ts).
 */

let chroma: TestChroma;
let proxy: ChromaProxy;
let client: ChromaClient;

beforeAll(async () => {
  chroma = await startTestChroma();
  proxy = await startChromaProxy(chroma.server.url);
  const url = new URL(proxy.url);
  client = new ChromaClient({ host: url.hostname, port: Number(url.port) });
});
afterAll(async () => {
  await proxy?.close();
  await chroma?.stop();
});

const FULL = { userId: "u", kind: "episode", mood: "happy", expiresAt: 5_000 };

/** Two rows with every key, then row a written again without `mood` and `expiresAt`. */
async function rewrite(collection: Collection): Promise<string[]> {
  await upsertRows(collection, { ids: ["a", "b"], embeddings: [[1, 0, 0], [0, 1, 0]], documents: ["", ""], metadatas: [FULL, FULL] });
  const from = proxy.requests.length;
  await upsertRows(collection, {
    ids: ["a"],
    embeddings: [[0, 0, 1]],
    documents: [""],
    metadatas: [{ userId: "u", kind: "fact" }],
    removed: [["mood", "expiresAt"]],
  });
  return proxy.requests.slice(from).map((request) => request.path.split("/").at(-1)!);
}

async function expectRemoved(collection: Collection): Promise<void> {
  const rows = await collection.get({ ids: ["a", "b"], include: ["metadatas"] as never });
  expect(Object.fromEntries(rows.ids.map((id, i) => [id, rows.metadatas[i]]))).toEqual({ a: { userId: "u", kind: "fact" }, b: FULL });
  expect((await collection.get({ where: { mood: "happy" } })).ids).toEqual(["b"]);
  expect((await collection.get({ where: { expiresAt: { $lte: 10_000 } } })).ids).toEqual(["b"]);
}

it("removes the keys named in the same upsert (sent as null): no delete, the row is never missing", async () => {
  const collection = await client.getOrCreateCollection({ name: "removed-keys", embeddingFunction: null });
  expect(await rewrite(collection)).toEqual(["upsert"]);
  await expectRemoved(collection);
});

it("on the client's own upsert (which leaves nulls out) the row is deleted first, then written whole", async () => {
  const real = await client.getOrCreateCollection({ name: "removed-keys-client", embeddingFunction: null });
  // Without the client's internals, upsertRows takes the client's own path (another chromadb version).
  const bare = { upsert: real.upsert.bind(real), delete: real.delete.bind(real) } as unknown as Collection;
  expect(await rewrite(bare)).toEqual(["delete", "upsert"]);
  await expectRemoved(real);
});
