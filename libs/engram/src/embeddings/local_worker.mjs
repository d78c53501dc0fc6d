// The worker thread behind LocalEmbeddings (embeddings/local.ts). Plain JavaScript on purpose: a
// worker needs a real JS file both when Engram runs from its TypeScript sources (Jest) and from
// dist (the build copies this file as is, see tsconfig.build.json's allowJs).
//
// It loads Universal Sentence Encoder Lite on TF.js (local_tfjs_model.mjs) once and answers
// embedding requests.
import { parentPort } from "node:worker_threads";
import { modelText } from "./local_text.mjs";
import { loadTfjsModel } from "./local_tfjs_model.mjs";

/** @type {Promise<{ embed(input: string[]): Promise<number[][]> }> | undefined} */
let model;

parentPort.on("message", async (message) => {
  const { id, texts } = message;
  try {
    model ??= loadTfjsModel().catch((error) => {
      model = undefined; // the next request tries again
      throw error;
    });
    const vectors = await (await model).embed(texts.map(modelText));
    const dimensions = vectors[0]?.length ?? 0;
    // One flat Float32Array, moved rather than copied: the model computes in float32 anyway.
    const flat = new Float32Array(vectors.length * dimensions);
    vectors.forEach((vector, i) => flat.set(vector, i * dimensions));
    parentPort.postMessage({ id, flat, dimensions }, [flat.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
