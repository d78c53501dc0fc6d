import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChromaServer, type ChromaServer } from "../store/chroma_server.js";

/** A real Chroma server in a fresh temporary folder, for one integration suite. */
export interface TestChroma {
  server: ChromaServer;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestChroma(): Promise<TestChroma> {
  const dir = await mkdtemp(join(tmpdir(), "engram-test-"));
  // No try/catch: a server that cannot start must fail the suite, never skip it.
  const server = await startChromaServer({ path: join(dir, "chroma") });
  return {
    server,
    dir,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function tempDir(prefix = "engram-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
