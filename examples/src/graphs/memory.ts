import { Memory } from "engram";

let shared: Memory | undefined;

/**
 * The one `Memory` the example graphs share (two instances on one data folder would start two
 * Chroma servers on it). Its data folder is `ENGRAM_DATA_DIR`, default `.engram` in the working
 * directory. Nothing starts here: Memory opens its server on first use, so the dev server can
 * import the graphs without waiting.
 */
export function exampleMemory(env: NodeJS.ProcessEnv = process.env): Memory {
  shared ??= new Memory({ dataDir: env.ENGRAM_DATA_DIR || ".engram" });
  return shared;
}
