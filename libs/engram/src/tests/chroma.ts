import { execFileSync } from "node:child_process";
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

/** SIGKILL the Chroma process serving `path` (not its supervisor): a crash, not a clean stop. */
export function killChroma(path: string): void {
  const lines = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).split("\n");
  const chromaLine = lines.find((line) => line.includes("cli.mjs run --path " + path) && !line.includes(" -e "));
  if (!chromaLine) throw new Error("chroma process not found");
  process.kill(Number(chromaLine.trim().split(/\s+/)[0]), "SIGKILL");
}
