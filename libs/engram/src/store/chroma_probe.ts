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
  /** When the supervisor and Chroma started (see `startedAt`): a pid reused since is not them. */
  since?: string;
  chromaSince?: string;
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
  if (state.since !== undefined && typeof state.since !== "string") delete server.since;
  if (state.chromaSince !== undefined && typeof state.chromaSince !== "string") delete server.chromaSince;
  const alive = isAlive(server.pid) || (server.chroma !== undefined && isAlive(server.chroma));
  const running = alive && (await heartbeat(server.host, server.port));
  return { status: running ? "running" : "gone", server };
}

/**
 * The server serving the folder `path`, if any: one that answers, or one whose processes run but
 * do not answer in time (a busy machine, a hung server). The latter is waited for up to `waitMs`
 * where the OS cannot tell a reused pid from the server's own; where it can (Linux), it is
 * returned at once: its requests wait or time out as an outage, and its owner restarts it if it
 * hangs. Before, a server whose heartbeat took over a second read as gone, and the caller started
 * a second server on the same files.
 */
export async function serverOnFolder(path: string, waitMs: number): Promise<ServerState | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const found = await localServerState(path);
    if (found.status === "running") return found.server;
    if (found.status !== "gone") return undefined;
    const lives = await serverLives(found.server);
    if (lives === "no") return undefined;
    if (lives === "yes") return found.server;
    if (Date.now() >= deadline) return undefined; // maybe a pid the OS gave to another process
    await sleep(250);
  }
}

/** Whether the server's supervisor or Chroma runs: "maybe" when a pid runs but its start time is unknown. */
export async function serverLives(server: ServerState): Promise<"yes" | "maybe" | "no"> {
  const lives = [await runs(server.pid, server.since), server.chroma === undefined ? "no" : await runs(server.chroma, server.chromaSince)];
  return lives.includes("yes") ? "yes" : lives.includes("maybe") ? "maybe" : "no";
}

/**
 * Whether the process `pid` that started at `since` (see `startedAt`) runs: "no" when the pid is
 * gone, a zombie (exited, its parent has not reaped it: a frozen or busy parent), or a process
 * that started at another time (the OS gave it the pid since); "maybe" when the OS does not say
 * (no /proc, or no `since` to compare).
 */
export async function runs(pid: number, since: string | undefined): Promise<"yes" | "maybe" | "no"> {
  if (!isAlive(pid)) return "no";
  const stat = await procStat(pid);
  if (!stat) return "maybe";
  if (stat[0] === "Z" || stat[0] === "X") return "no";
  if (since === undefined) return "maybe";
  return stat[19] === since ? "yes" : "no";
}

/**
 * When the process `pid` started (clock ticks since boot, /proc/<pid>/stat's 22nd field), or
 * undefined where there is no /proc (macOS, Windows) or no such process. With a pid, it tells a
 * process from another that the OS gave the same pid later.
 */
export async function startedAt(pid: number): Promise<string | undefined> {
  return (await procStat(pid))?.[19];
}

/** /proc/<pid>/stat's fields from the 3rd (the state) on; undefined without /proc. */
async function procStat(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (2nd field) is in parentheses and may hold spaces: count after it.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
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
