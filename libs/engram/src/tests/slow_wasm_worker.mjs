// Test only: runs embeddings/local_worker.mjs in a thread where WebAssembly compiles slowly, as it
// does on a loaded machine. TF.js's WASM backend then starts after the model's weight files are
// read; a worker that reads the weights before the backend is ready fails its first embedding.
import { workerData } from "node:worker_threads";

const instantiate = WebAssembly.instantiate.bind(WebAssembly);
WebAssembly.instantiate = async (...args) => {
  await new Promise((resolve) => setTimeout(resolve, workerData.delayMs));
  return instantiate(...args);
};
await import(new URL("../embeddings/local_worker.mjs", import.meta.url).href);
