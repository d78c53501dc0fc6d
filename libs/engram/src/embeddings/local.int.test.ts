import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ChromaClient } from "chromadb";
import { Worker } from "node:worker_threads";
import { LocalEmbeddings } from "./local.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);

describe("LocalEmbeddings", () => {
  const embeddings = new LocalEmbeddings();
  afterAll(async () => embeddings.close());

  it("is deterministic and unit-norm", async () => {
    const [a, b] = await embeddings.embedDocuments(["I moved to Berlin last spring.", "I moved to Berlin last spring."]);
    const single = new LocalEmbeddings({ batchSize: 1 });
    const again = await single.embedQuery("I moved to Berlin last spring.").finally(() => single.close());
    expect(a).toHaveLength(512);
    expect(a).toEqual(b);
    expect(cosine(again, a!)).toBeGreaterThan(0.9999);
    expect(cosine(a!, a!)).toBeCloseTo(1, 4);
  });

  it("is semantic: a paraphrase scores well above an unrelated sentence", async () => {
    const [query, paraphrase, unrelated] = await embeddings.embedDocuments([
      "What programming language does the user like for data science?",
      "User prefers Python for data analysis and machine learning",
      "The train to the airport leaves at seven in the morning",
    ]);
    const near = cosine(query!, paraphrase!);
    const far = cosine(query!, unrelated!);
    expect(near).toBeGreaterThan(far + 0.25);
  });

  it("keeps one vector per input, empty and whitespace texts included, across batches", async () => {
    const texts = Array.from({ length: 70 }, (_, i) => (i % 10 === 0 ? "  " : `sentence number ${i}`));
    const batched = new LocalEmbeddings({ batchSize: 16 });
    const vectors = await batched.embedDocuments(texts).finally(() => batched.close());
    expect(vectors).toHaveLength(70);
    const [single] = await embeddings.embedDocuments([texts[33]!]);
    // Batching pads inputs, which moves the last float digits, never the meaning.
    expect(cosine(vectors[33]!, single!)).toBeGreaterThan(0.9999);
    expect(cosine(vectors[33]!, vectors[34]!)).toBeLessThan(0.99);
  });
});

describe("LocalEmbeddings off the caller's thread", () => {
  const events = ["unhandledRejection", "uncaughtException"] as const;

  it("loads the model in a worker: no listener is added to this process", async () => {
    const before = events.map((event) => process.listenerCount(event));
    const embeddings = new LocalEmbeddings({ threads: 1 });
    try {
      expect(await embeddings.embedQuery("The WASM glue stays in its thread.")).toHaveLength(512);
      expect(events.map((event) => process.listenerCount(event))).toEqual(before);
    } finally {
      await embeddings.close();
    }
  });

  it("leaves the caller's event loop free while a batch embeds", async () => {
    const embeddings = new LocalEmbeddings({ threads: 1 });
    try {
      await embeddings.embedQuery("warm up"); // the model loads once
      let turns = 0;
      let running = true;
      const spin = (): void => {
        turns += 1;
        if (running) setImmediate(spin);
      };
      setImmediate(spin);
      const texts = Array.from({ length: 48 }, (_, i) => `a longer sentence about topic number ${i}, so that it takes the model a while`);
      await embeddings.embedDocuments(texts);
      running = false;
      // On the caller's thread the loop would get a turn only between model calls (a handful);
      // in a worker it keeps turning the whole time.
      expect(turns).toBeGreaterThan(200);
    } finally {
      await embeddings.close();
    }
  });

  it("serves a query ahead of a large batch already queued", async () => {
    const embeddings = new LocalEmbeddings({ threads: 1, batchSize: 4 });
    try {
      await embeddings.embedQuery("warm up");
      const order: string[] = [];
      const batch = embeddings.embedDocuments(Array.from({ length: 40 }, (_, i) => `background text ${i}`)).then(() => order.push("batch"));
      const query = embeddings.embedQuery("what did the user say?").then(() => order.push("query"));
      await Promise.all([batch, query]);
      expect(order).toEqual(["query", "batch"]);
    } finally {
      await embeddings.close();
    }
  });
});

describe("the model's worker thread", () => {
  it("embeds its first request even when the WASM backend starts after the weights are read", async () => {
    // CI once failed here with "Backend 'wasm' has not yet been initialized": the library reads
    // the weights beside tf.ready(), and on a loaded machine the WASM compile finished last.
    const worker = new Worker(new URL("../tests/slow_wasm_worker.mjs", import.meta.url), {
      workerData: { delayMs: 1_500 },
    });
    try {
      const reply = await new Promise<{ error?: string; dimensions?: number }>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
        worker.postMessage({ id: 1, texts: ["The backend starts late."] });
      });
      expect(reply.error).toBeUndefined();
      expect(reply.dimensions).toBe(512);
    } finally {
      await worker.terminate();
    }
  });
});

describe("a Chroma round trip with the local embeddings", () => {
  let chroma: TestChroma;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => chroma.stop());

  const embeddings = new LocalEmbeddings();
  afterAll(async () => embeddings.close());

  it("stores texts and recalls the right one by meaning", async () => {
    const client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
    const collection = await client.createCollection({
      name: "roundtrip",
      embeddingFunction: null,
      metadata: { "hnsw:space": "cosine" },
    });
    const docs = [
      "My sister Anna lives in Lisbon and works as a nurse.",
      "I am allergic to peanuts, so please avoid them in recipes.",
      "Our team ships the mobile app every second Thursday.",
    ];
    await collection.add({ ids: ["d0", "d1", "d2"], documents: docs, embeddings: await embeddings.embedDocuments(docs) });
    const result = await collection.query({
      queryEmbeddings: [await embeddings.embedQuery("Which foods should I not eat?")],
      nResults: 3,
    });
    expect(result.ids[0]?.[0]).toBe("d1");
    const distances = result.distances[0] as number[];
    expect(distances[0]).toBeLessThan(distances[1]!);
  });
});
