import { createRequire } from "node:module";
import { createConnection, createServer } from "node:net";
import { access, constants, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { EngramError } from "../core/errors.js";
import { withFetchPool } from "./fetch_pool.js";

/*
 * Probes of the local Chroma server and its data folder, apart from the code that starts and
 * restarts it: a heartbeat, free ports, the state file a started server leaves in its folder.
 */

/** What `startChromaServer` records in a data folder while a server it started runs. */
export interface ServerState {
  /** The supervisor's pid (chroma_supervisor.ts). */
  pid: number;
  /**
   * Chroma's own pid, when its supervisor told it: a Chroma whose supervisor was killed on its own
   * still serves the folder.
   */
  chroma?: number;
  host: string;
  port: number;
  path: string;
}

/**
 * The file in the server's data folder that holds its `ServerState`: the one way another process
 * (a second app, the CLI) can find a server `startChromaServer` started.
 */
export const SERVER_STATE_FILE = "engram-chroma.json";

/** True when a Chroma server answers its heartbeat at host:port. */
export async function heartbeat(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  try {
    // Through a pool of its own: the process-wide one would keep this port's entry for ever (fetch_pool.ts).
    return await withFetchPool(async (pool) => {
      const response = await fetch(`http://${host}:${port}/api/v2/heartbeat`, { signal: AbortSignal.timeout(timeoutMs), ...pool });
      if (!response.ok) return false;
      const body = (await response.json()) as Record<string, unknown>;
      return typeof body["nanosecond heartbeat"] === "number";
    });
  } catch {
    return false;
  }
}

export async function assertPortFree(host: string, port: number, path: string): Promise<void> {
  if (!(await listening(host, port))) return;
  const isChroma = await heartbeat(host, port);
  throw new EngramError(
    "CHROMA_PORT_IN_USE",
    isChroma
      ? `Port ${port} on ${host} is served by another Chroma server, not one serving ${path}. ` +
          `Connect to it by URL, or choose another port.`
      : `Port ${port} on ${host} is in use by something that is not Chroma. Choose another port, ` +
          `or leave the port out to get a free one.`,
    { details: { host, port, path, isChroma } },
  );
}

export function listening(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
    socket.setTimeout(1_000, () => {
      socket.destroy();
      done(false);
    });
  });
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.once("error", fail);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export async function ensureWritable(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
    await access(path, constants.W_OK);
    // access() trusts the mode bits; root ignores them, a read-only mount does not.
    const probe = join(path, `.engram-write-probe-${process.pid}`);
    await writeFile(probe, "");
    await rm(probe, { force: true });
  } catch (cause) {
    throw new EngramError(
      "CHROMA_DATA_DIR_NOT_WRITABLE",
      `The Chroma data folder ${path} cannot be created or written: ${(cause as Error).message}`,
      { cause, details: { path } },
    );
  }
}

/** The server a data folder's state file names, and whether it still runs. */
export type LocalServerState =
  /** No state file (or one that does not parse): no server was started for the folder. */
  | { status: "none" }
  /** A state file that is not an object with a numeric pid and port and a host. */
  | { status: "unreadable" }
  /** The server last started for the folder: its process is gone or its heartbeat does not answer. */
  | { status: "gone"; server: ServerState }
  | { status: "running"; server: ServerState };

/**
 * Reads `SERVER_STATE_FILE` in the Chroma data folder `path` and checks the server it names: its
 * process alive (the supervisor, or Chroma itself, which outlives a supervisor killed on its own)
 * and its heartbeat answering (a pid alone could have been reused by the OS).
 */
export async function localServerState(path: string): Promise<LocalServerState> {
  let state: Partial<Record<keyof ServerState, unknown>>;
  try {
    state = JSON.parse(await readFile(join(path, SERVER_STATE_FILE), "utf8")) as typeof state;
  } catch {
    return { status: "none" };
  }
  if (state === null || typeof state !== "object" || typeof state.pid !== "number" || typeof state.host !== "string" || typeof state.port !== "number") {
    return { status: "unreadable" };
  }
  const server = state as ServerState;
  if (state.chroma !== undefined && typeof state.chroma !== "number") delete server.chroma;
  const alive = isAlive(server.pid) || (server.chroma !== undefined && isAlive(server.chroma));
  const running = alive && (await heartbeat(server.host, server.port));
  return { status: running ? "running" : "gone", server };
}

/** Whether a process with this pid runs (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Finds `chromadb/dist/cli.mjs`; the package's `exports` map hides its package.json. */
export function chromaCliPath(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve("chromadb");
  } catch (cause) {
    throw new EngramError("CHROMA_CLI_NOT_FOUND", "The `chromadb` package is not installed.", { cause });
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "chromadb") {
      const cli = join(dir, "dist", "cli.mjs");
      if (existsSync(cli)) return cli;
    }
  }
  throw new EngramError("CHROMA_CLI_NOT_FOUND", `The Chroma CLI was not found next to ${entry}.`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
