import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ChromaClient } from "chromadb";
import { EngramStore } from "../../adapters/store/engram_store.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { markerCollectionName, readStoreModel } from "../model_marker.js";
import { storeMarkerName } from "./model_check.js";
import { codeOf } from "../../tests/runs.js";

let chroma: TestChroma;
let raw: ChromaClient;
const opened: EngramStore[] = [];
let prefixes = 0;

/** A test embedding that names itself, so two of them are two models to the marker. */
function model(modelId: string): HashEmbeddings {
  return Object.assign(new HashEmbeddings(32), { modelId });
}

function open(prefix: string, modelId: string | false): EngramStore {
  const store = new EngramStore({
    chroma: { url: chroma.server.url },
    prefix,
    index: modelId === false ? false : { fields: ["text"], embeddings: model(modelId) },
  });
  opened.push(store);
  return store;
}

function freshPrefix(): string {
  prefixes += 1;
  return `mc${prefixes}`;
}

beforeAll(async () => {
  chroma = await startTestChroma();
  raw = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
});

afterAll(async () => {
  for (const store of opened) await store.close();
  await chroma?.stop();
});

describe("EngramStore follows the model marker of its prefix", () => {
  it("refuses another model's writes and queries on a prefix that holds vectors, before writing; reads by key still work", async () => {
    const prefix = freshPrefix();
    const first = open(prefix, "hash-a");
    await first.put(["alice", "notes"], "trip", { text: "a trip to Japan in April" });
    expect(await readStoreModel(raw, storeMarkerName(prefix))).toBe("hash-a");

    const other = open(prefix, "hash-b");
    expect(await codeOf(other.put(["alice", "notes"], "food", { text: "likes ramen" }))).toBe("EMBEDDINGS_MISMATCH");
    expect(await codeOf(other.search(["alice"], { query: "travel" }))).toBe("EMBEDDINGS_MISMATCH");
    const error = await other.put(["bob"], "k", { text: "x" }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/"hash-a".*"hash-b"/s);
    // Nothing of the refused writes reached Chroma; keys and namespaces involve no vector.
    expect(await first.get(["alice", "notes"], "food")).toBeNull();
    expect(await first.listNamespaces()).toEqual([["alice", "notes"]]);
    expect((await other.get(["alice", "notes"], "trip"))!.value).toEqual({ text: "a trip to Japan in April" });

    // The model that wrote it opens it again as before.
    const again = open(prefix, "hash-a");
    expect((await again.search(["alice"], { query: "Japan trip" })).map((item) => item.key)).toEqual(["trip"]);
    expect(await readStoreModel(raw, storeMarkerName(prefix))).toBe("hash-a");
  });

  it("keeps a prefix for its first model even while it holds nothing: a store of it may be open and about to write", async () => {
    const prefix = freshPrefix();
    const first = open(prefix, "hash-a");
    expect(await first.search(["alice"], { query: "anything" })).toEqual([]);
    expect(await readStoreModel(raw, storeMarkerName(prefix))).toBe("hash-a");
    // Another model's store opens the empty prefix: it is refused, and the marker stays.
    const next = open(prefix, "hash-b");
    expect(await codeOf(next.put(["alice"], "k", { text: "hello" }))).toBe("EMBEDDINGS_MISMATCH");
    expect(await readStoreModel(raw, storeMarkerName(prefix))).toBe("hash-a");
    // The first store, checked before, writes with its model into a prefix that still names it.
    await first.put(["alice"], "k", { text: "hello" });
    expect((await first.search(["alice"], { query: "hello" })).map((item) => item.key)).toEqual(["k"]);
  });

  it("keeps its marker apart from Memory's, and a store without an index records none", async () => {
    const prefix = freshPrefix();
    await open(prefix, false).put(["alice"], "k", { text: "plain" });
    const names = (await raw.listCollections({ limit: 1000 })).map((c) => c.name).filter((name) => name.startsWith(`${prefix}-`));
    expect(names).toHaveLength(1);
    // (Another first label: an index-less collection holds 1-dimension placeholders.)
    await open(prefix, "hash-a").put(["bob"], "k", { text: "embedded" });
    const after = (await raw.listCollections({ limit: 1000 })).map((c) => c.name);
    expect(after).toContain(markerCollectionName(storeMarkerName(prefix)));
    expect(after).not.toContain(markerCollectionName(prefix));
    // A store written before stores recorded a model is taken to hold the model that opens it.
    expect(await readStoreModel(raw, storeMarkerName(prefix))).toBe("hash-a");
  });
});
