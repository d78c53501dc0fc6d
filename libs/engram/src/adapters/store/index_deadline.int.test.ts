import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { Embeddings } from "@langchain/core/embeddings";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { codeOf } from "../../tests/runs.js";
import { EngramStore } from "./engram_store.js";

// EngramStore's index called the user's model with no deadline: a model that never answered (a
// request without a timeout of its own to a server that stopped answering) hung put and search
// for ever. It now has Memory's `embeddingTimeoutMs` (embeddings/deadline.ts), same name, same default.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

/** The test's hash model, never answering for a text with "HANG" (a request that never comes back). */
class HangingEmbeddings extends Embeddings {
  private readonly model = new HashEmbeddings();
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    if (texts.some((text) => text.includes("HANG"))) return new Promise<number[][]>(() => undefined);
    return this.model.embedDocuments(texts);
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

describe("EngramStore's index and a model that never answers", () => {
  it("fails the put and the search with EMBEDDING_FAILED past embeddingTimeoutMs, writing nothing of the put; the store goes on", async () => {
    const store = new EngramStore({ chroma: { url: chroma.server.url }, prefix: "hang", index: { fields: ["text"], embeddings: new HangingEmbeddings() }, embeddingTimeoutMs: 300 });
    opened.push(store);
    await store.put(["notes"], "bees", { text: "Alice keeps bees on the roof" });
    expect(await codeOf(store.put(["notes"], "stuck", { text: "this one makes the model HANG" }))).toBe("EMBEDDING_FAILED");
    expect(await codeOf(store.batch([{ namespace: ["notes"], key: "cello", value: { text: "Bob plays the cello" } }, { namespace: ["notes"], key: "stuck", value: { text: "HANG again" } }]))).toBe(
      "EMBEDDING_FAILED",
    );
    expect(await codeOf(store.search(["notes"], { query: "HANG on", limit: 1 }))).toBe("EMBEDDING_FAILED");
    // Nothing of the failed puts landed; the store answers.
    expect(await store.get(["notes"], "stuck")).toBeNull();
    expect(await store.get(["notes"], "cello")).toBeNull();
    expect((await store.search(["notes"], { query: "Alice keeps bees", limit: 1 }))[0]?.key).toBe("bees");
  });

  it("takes embeddingTimeoutMs as Memory does: refused when not an integer from 0 to 3,600,000, before anything starts", () => {
    for (const bad of [-1, 1.5, "100", 3_600_001, Number.NaN]) {
      expect(() => new EngramStore({ chroma: { url: chroma.server.url }, embeddingTimeoutMs: bad as number })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    }
    opened.push(new EngramStore({ chroma: { url: chroma.server.url }, index: false, embeddingTimeoutMs: 0 }));
  });
});
