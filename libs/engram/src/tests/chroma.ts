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
  // A server that cannot start fails the suite, never skips it. But a loaded CI machine may take
  // far longer than the default 30 s to answer the first heartbeat, and the free port chosen can be
  // taken by another process before Chroma binds it (Chroma then exits): wait long, and start
  // again (on a new free port) up to twice when the server exited during start.
  const server = await startServer(join(dir, "chroma"));
  return {
    server,
    dir,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startServer(path: string): Promise<ChromaServer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startChromaServer({ path, startTimeoutMs: 180_000 });
    } catch (error) {
      if (attempt >= 3 || (error as { code?: string }).code !== "CHROMA_EXITED") throw error;
    }
  }
}

export async function tempDir(prefix = "engram-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Pid of the Chroma process itself serving `path`, not its supervisor: both run the native
 * bindings' file, but only Chroma's arguments follow it directly (the supervisor's start with its
 * stop timeout).
 */
export function chromaPid(path: string): number | undefined {
  const lines = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).split("\n");
  const line = lines.find((l) => l.includes(".node run --path " + path + " "));
  return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
}

/** SIGKILL the Chroma process serving `path` (not its supervisor): a crash, not a clean stop. */
export function killChroma(path: string): void {
  const pid = chromaPid(path);
  if (pid === undefined) throw new Error("chroma process not found");
  process.kill(pid, "SIGKILL");
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
