import { afterAll, beforeAll } from "@jest/globals";
import { join } from "node:path";
import { LocalEmbeddings } from "../embeddings/local.js";
import { Memory } from "../memory/memory.js";
import type { MemoryOptions } from "../memory/options.js";
import { startTestChroma, type TestChroma } from "./chroma.js";

/** What a suite gets from `testMemories()`. */
export interface TestMemories {
  /** The suite's Chroma server and temporary folder (available from the suite's own hooks on). */
  readonly chroma: TestChroma;
  /** The local embedding model, one per suite (loading it is the slow part of a Memory). */
  readonly embeddings: LocalEmbeddings;
  /**
   * A Memory with the data folder `<chroma.dir>/<name>`, on the suite's server and the suite's
   * embeddings unless `options` say otherwise; closed after the suite.
   */
  open(name: string, options?: Omit<MemoryOptions, "dataDir">): Memory;
  /** Closes a Memory made another way after the suite, with the others. */
  track(memory: Memory): Memory;
}

/**
 * The integration suites' set-up: a real Chroma server started before the suite (never skipped:
 * a server that cannot start fails it), and after the suite every Memory made here closed, then the
 * suite's embeddings closed, the server stopped and its folder removed. Call it at the top level of
 * a suite, before the hooks that use the server (Jest runs hooks in the order they are declared: an
 * `afterAll` declared before this call runs while the memories are still open).
 */
export function testMemories(): TestMemories {
  const embeddings = new LocalEmbeddings();
  const opened: Memory[] = [];
  let chroma: TestChroma | undefined;

  beforeAll(async () => {
    chroma = await startTestChroma();
  });

  afterAll(async () => {
    for (const memory of opened) await memory.close();
    // The model's worker threads would otherwise run on (unref'd) until their idle timeout, one
    // set per suite in the same Jest worker, and slow its exit past Jest's limit.
    await embeddings.close();
    await chroma?.stop();
  });

  const server = (): TestChroma => {
    if (chroma === undefined) throw new Error("testMemories(): the test server starts in beforeAll; use it from a hook or a test.");
    return chroma;
  };
  const track = (memory: Memory): Memory => {
    opened.push(memory);
    return memory;
  };

  return {
    get chroma() {
      return server();
    },
    embeddings,
    open: (name, options = {}) =>
      track(new Memory({ embeddings, chroma: { url: server().server.url }, ...options, dataDir: join(server().dir, name) })),
    track,
  };
}
