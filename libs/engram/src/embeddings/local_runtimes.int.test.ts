import { afterAll, describe, expect, it } from "@jest/globals";
import { Worker } from "node:worker_threads";
import { EngramError } from "../core/errors.js";
import { LocalEmbeddings, type LocalRuntime } from "./local.js";

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
const largestGap = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - (b[i] ?? 0))));

/**
 * Texts that reach the model's corners: the unknown piece (id 0, which is not padding), texts past
 * its 128 pieces, a lone piece, whitespace only, digits, non-Latin scripts and astral characters,
 * mixed in one batch so that most rows are padded.
 */
const CORNERS = [
  "What programming language does she like?",
  "Mostly Python with pandas",
  "Miso is a lovely name!",
  "I went to the beach last weekend with my kids and we built a sandcastle, then we had ice cream by the pier.",
  ".",
  "   ",
  "ok",
  "Meet me at 10:45 on 2023-05-07, gate B12, flight LH 4711.",
  "日本語のテキストと emoji 🎉🎉 and ∑∫√ symbols",
  "Ünïcödé äccents, ñ and ß in Grüße aus München",
  "\u0000\u0007 control characters \u200b inside",
  Array.from({ length: 90 }, (_, i) => `word${i}`).join(" "), // several hundred pieces: clipped at 128
  "Caroline said: \"I'm going to the LGBTQ support group tonight, it really helps me.\"",
  "a",
];

describe("LocalEmbeddings on ONNX Runtime and on TF.js", () => {
  const onnx = new LocalEmbeddings({ runtime: "onnx", threads: 1 });
  const tfjs = new LocalEmbeddings({ runtime: "tfjs", threads: 1 });
  afterAll(async () => Promise.all([onnx.close(), tfjs.close()]));

  it("picks ONNX Runtime by default where onnxruntime-node is installed (it is a dependency of this repository)", () => {
    expect(new LocalEmbeddings().runtime).toBe("onnx");
    expect(onnx.runtime).toBe("onnx");
    expect(tfjs.runtime).toBe("tfjs");
  });

  it("gives the same vectors as TF.js, corner texts and padded batches included", async () => {
    const [fromOnnx, fromTfjs] = await Promise.all([onnx.embedDocuments(CORNERS), tfjs.embedDocuments(CORNERS)]);
    expect(fromOnnx).toHaveLength(CORNERS.length);
    CORNERS.forEach((text, i) => {
      const a = fromOnnx[i]!;
      const b = fromTfjs[i]!;
      expect({ text, cosine: cosine(a, b) > 0.99999, gap: largestGap(a, b) < 1e-4 }).toEqual({ text, cosine: true, gap: true });
    });
    // The texts differ: equal vectors everywhere would mean the input never reached the model.
    expect(cosine(fromOnnx[0]!, fromOnnx[1]!)).toBeLessThan(0.9);
  });

  it("reads a text the same alone and padded in a batch", async () => {
    const batch = await onnx.embedDocuments(CORNERS);
    for (const i of [0, 4, 6, 11]) {
      const alone = await onnx.embedQuery(CORNERS[i]!);
      expect(cosine(alone, batch[i]!)).toBeGreaterThan(0.99999);
    }
  });

  it("gives each text its own vector in the caller's order when a call is split into requests of like length", async () => {
    const texts = Array.from({ length: 23 }, (_, i) => `${"very ".repeat((i * 7) % 23)}text number ${i} about ${i % 2 ? "cats" : "the sea"}`);
    const split = new LocalEmbeddings({ runtime: "onnx", threads: 1, batchSize: 4 });
    try {
      const vectors = await split.embedDocuments(texts);
      for (const [i, text] of texts.entries()) expect({ i, cosine: cosine(vectors[i]!, await onnx.embedQuery(text)) > 0.99999 }).toEqual({ i, cosine: true });
    } finally {
      await split.close();
    }
  });

  it("clips a text at the model's 128 pieces, as TF.js does", async () => {
    const long = Array.from({ length: 200 }, (_, i) => `token${i}`).join(" ");
    const longer = `${long} and a tail that only a model reading past 128 pieces would see`;
    const [a, b] = await onnx.embedDocuments([long, longer]);
    expect(cosine(a!, b!)).toBeGreaterThan(0.99999);
  });

  it.each<LocalRuntime>(["onnx", "tfjs"])("%s: adds no listener to this process", async (runtime) => {
    const events = ["unhandledRejection", "uncaughtException", "exit", "SIGINT"] as const;
    const before = events.map((event) => process.listenerCount(event));
    const embeddings = new LocalEmbeddings({ runtime, threads: 1 });
    try {
      expect(await embeddings.embedQuery(`Stays in the ${runtime} worker.`)).toHaveLength(512);
      expect(events.map((event) => process.listenerCount(event))).toEqual(before);
    } finally {
      await embeddings.close();
    }
  });

  it("refuses a runtime it does not know, before anything runs", () => {
    const attempt = () => new LocalEmbeddings({ runtime: "cuda" as LocalRuntime });
    expect(attempt).toThrow(EngramError);
    expect(attempt).toThrow(/runtime must be "auto", "onnx" or "tfjs", got "cuda"/);
  });
});

type WorkerReply = { id: number; flat?: Float32Array; dimensions?: number; runtime?: string; error?: string };

/** One request to a fresh ONNX worker whose ONNX Runtime is `runtimeModule` (one that is not there fails to load). */
async function askOnnxWorker(workerData: { fallback: boolean; runtimeModule?: string }, texts: string[]): Promise<WorkerReply> {
  const worker = new Worker(new URL("./local_onnx_worker.mjs", import.meta.url), { workerData });
  try {
    return await new Promise<WorkerReply>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.postMessage({ id: 1, texts });
    });
  } finally {
    await worker.terminate();
  }
}

describe("the ONNX worker where ONNX Runtime cannot load (musl libc, a platform without its binary)", () => {
  const texts = ["Where did she move last spring?", "I moved to Lisbon in March."];
  const missing = "onnxruntime-node-that-is-not-installed";

  it('with runtime "auto" (fallback), answers on TF.js with the same vectors, and says so', async () => {
    const tfjs = new LocalEmbeddings({ runtime: "tfjs", threads: 1 });
    try {
      const [reply, expected] = await Promise.all([askOnnxWorker({ fallback: true, runtimeModule: missing }, texts), tfjs.embedDocuments(texts)]);
      expect(reply.error).toBeUndefined();
      expect(reply.runtime).toBe("tfjs");
      const vectors = texts.map((_, i) => Array.from(reply.flat!.subarray(i * 512, (i + 1) * 512)));
      texts.forEach((_, i) => expect(cosine(vectors[i]!, expected[i]!)).toBeGreaterThan(0.99999));
    } finally {
      await tfjs.close();
    }
  });

  it('with runtime "onnx" (no fallback), fails with the load error', async () => {
    const reply = await askOnnxWorker({ fallback: false, runtimeModule: missing }, texts);
    expect(reply.flat).toBeUndefined();
    expect(reply.error).toContain(missing);
  });

  it("where it loads, says it ran on ONNX Runtime", async () => {
    const reply = await askOnnxWorker({ fallback: true }, texts);
    expect(reply.runtime).toBe("onnx");
    expect(reply.dimensions).toBe(512);
  });
});
