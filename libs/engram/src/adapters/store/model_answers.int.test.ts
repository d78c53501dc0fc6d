import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { Embeddings } from "@langchain/core/embeddings";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { codeOf } from "../../tests/runs.js";
import { EngramStore } from "./engram_store.js";

// EngramStore's index checks what a user's model answers as Memory does (embeddings/vectors.ts):
// before, a Float32Array (which some clients return) failed every put with EMBEDDING_FAILED, and
// an all-zero vector was stored, found by no query (its cosine with anything is 0/0).

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

/** The test's hash model, answering through `shape` when it is set. */
class ShapedEmbeddings extends Embeddings {
  shape?: (vector: number[]) => unknown;
  private readonly model = new HashEmbeddings();
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    const vectors = await this.model.embedDocuments(texts);
    return (this.shape ? vectors.map(this.shape) : vectors) as number[][];
  }
  async embedQuery(text: string): Promise<number[]> {
    return (await this.embedDocuments([text]))[0]!;
  }
}

let chroma: TestChroma;
const opened: EngramStore[] = [];
beforeAll(async () => {
  chroma = await startTestChroma();
});
afterAll(async () => {
  for (const store of opened) await store.close();
  await chroma?.stop();
});

function storeWith(model: ShapedEmbeddings, prefix: string): EngramStore {
  const store = new EngramStore({ chroma: { url: chroma.server.url }, prefix, index: { fields: ["text"], embeddings: model } });
  opened.push(store);
  return store;
}

describe("EngramStore's index and a user's model that answers in another shape", () => {
  it("takes vectors given as Float32Array, for puts and queries", async () => {
    const model = new ShapedEmbeddings();
    model.shape = (vector) => Float32Array.from(vector);
    const store = storeWith(model, "f32");
    await store.put(["notes"], "bees", { text: "Alice keeps bees on the roof" });
    await store.put(["notes"], "cello", { text: "Bob plays the cello" });
    const [hit] = await store.search(["notes"], { query: "Bob plays the cello", limit: 1 });
    expect(hit?.key).toBe("cello");
  });

  it("refuses an all-zero or NaN vector with EMBEDDING_FAILED, and stores nothing of the put", async () => {
    const model = new ShapedEmbeddings();
    const store = storeWith(model, "zero");
    await store.put(["notes"], "first", { text: "a first note, embedded well" });
    for (const shape of [(v: number[]) => v.map(() => 0), (v: number[]) => v.map(() => Number.NaN)]) {
      model.shape = shape;
      expect(await codeOf(store.put(["notes"], "broken", { text: "a note the model cannot embed" }))).toBe("EMBEDDING_FAILED");
      model.shape = undefined;
      expect(await store.get(["notes"], "broken")).toBeNull();
    }
  });
});
