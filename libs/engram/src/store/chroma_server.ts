import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createConnection, createServer } from "node:net";
import { access, constants, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { EngramError } from "../core/errors.js";
import { SUPERVISOR_SOURCE } from "./chroma_supervisor.js";

/** Options for {@link startChromaServer}. */
export interface ChromaServerOptions {
  /** Data folder of the server; created when missing. */
  path: string;
  /**
   * Interface to bind. Only loopback is sensible: the local server has no authentication.
   * @default "127.0.0.1"
   */
  host?: string;
  /** Port to listen on. @default a free port chosen by the OS */
  port?: number;
  /** How long to wait for the first heartbeat. @default 30000 */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGINT before SIGKILL. @default 5000 */
  stopTimeoutMs?: number;
}

/** A running local Chroma server. */
export interface ChromaServer {
  readonly host: string;
  readonly port: number;
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  /** Absolute data folder. */
  readonly path: string;
  /** True when an already running server on this folder was found and reused. */
  readonly reused: boolean;
  /** Pid of the supervisor process that owns the server (the server is its child). */
  readonly pid: number | undefined;
  /**
   * Releases this handle. The server stops when the last handle of the process that started it is
   * released; a reused server belongs to its starter and keeps running.
   */
  stop(): Promise<void>;
}

/** What `startChromaServer` records in a data folder while a server it started runs. */
export interface ServerState {
  pid: number;
  host: string;
  port: number;
  path: string;
}

/**
 * The file in the server's data folder that holds its `ServerState`: the one way another process
 * (a second app, the CLI) can find a server `startChromaServer` started.
 */
export const SERVER_STATE_FILE = "engram-chroma.json";
const STDERR_LIMIT = 8_192;

interface Owned {
  child: ChildProcess;
  state: ServerState;
  refs: number;
  stopTimeoutMs: number;
  stopping?: Promise<void>;
}

/** Servers this process started, by absolute data folder, shared by every handle in the process. */
const owned = new Map<string, Owned>();
/** Starts in flight, so two concurrent starts on one folder share one server. */
const starting = new Map<string, Promise<Owned | ServerState>>();
let exitHookInstalled = false;

/**
 * Starts the Chroma server shipped in the `chromadb` npm package as a child process serving
 * `options.path`, or reuses a healthy one already serving that folder (from this process or
 * another). Resolves once the server answers its heartbeat.
 */
export async function startChromaServer(options: ChromaServerOptions): Promise<ChromaServer> {
  const path = resolve(options.path);
  const host = options.host ?? "127.0.0.1";
  const local = owned.get(path);
  if (local && !local.stopping) return ownedHandle(local, path);

  let pending = starting.get(path);
  if (!pending) {
    pending = startOrReuse(path, host, options).finally(() => starting.delete(path));
    starting.set(path, pending);
  }
  const result = await pending;
  if ("child" in result) return ownedHandle(result, path);
  return reusedHandle(result);
}

async function startOrReuse(
  path: string,
  host: string,
  options: ChromaServerOptions,
): Promise<Owned | ServerState> {
  await ensureWritable(path);
  const previous = await localServerState(path);
  if (previous.status === "running") return previous.server;
  let port = options.port;
  if (port !== undefined) {
    await assertPortFree(host, port, path);
  } else {
    port = await freePort(host);
  }
  return launch(path, host, port, options);
}

async function launch(
  path: string,
  host: string,
  port: number,
  options: ChromaServerOptions,
): Promise<Owned> {
  const cli = chromaCliPath();
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  const args = ["run", "--path", path, "--host", host, "--port", String(port)];
  const child = spawn(
    process.execPath,
    ["-e", SUPERVISOR_SOURCE, cli, String(stopTimeoutMs), ...args],
    { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, CHROMA_TELEMETRY: "false" } },
  );
  const output = captureOutput(child);
  const exited = new Promise<number | string>((done) =>
    child.once("exit", (code, signal) => done(signal ?? code ?? "unknown")),
  );
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let ready = false;
  let exitedWith: number | string | undefined;
  void exited.then((value) => {
    exitedWith = value;
  });
  while (Date.now() < deadline && exitedWith === undefined) {
    if (await heartbeat(host, port)) {
      ready = true;
      break;
    }
    await Promise.race([sleep(50), exited]);
  }
  if (!ready) {
    const stderr = output();
    if (exitedWith !== undefined) {
      throw new EngramError(
        "CHROMA_EXITED",
        `The Chroma server exited during start (${exitedWith}) for data folder ${path} on ${host}:${port}.` +
          (stderr ? `\nServer output:\n${stderr}` : ""),
        { details: { path, host, port, exit: exitedWith, stderr } },
      );
    }
    await stopChild(child, stopTimeoutMs);
    throw new EngramError(
      "CHROMA_START_TIMEOUT",
      `The Chroma server for ${path} did not answer its heartbeat on ${host}:${port} within ` +
        `${options.startTimeoutMs ?? 30_000} ms.` + (stderr ? `\nServer output:\n${stderr}` : ""),
      { details: { path, host, port, stderr } },
    );
  }
  // Let the application exit without waiting on the server: when it does, the supervisor sees
  // its stdin close and stops Chroma.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
  const state: ServerState = { pid: child.pid ?? -1, host, port, path };
  await writeFile(join(path, SERVER_STATE_FILE), JSON.stringify(state));
  const entry: Owned = { child, state, refs: 0, stopTimeoutMs };
  owned.set(path, entry);
  // A server that dies on its own (crash, OOM kill) must not be handed out again: the next start
  // on this folder launches a new one.
  child.once("exit", () => {
    if (owned.get(path) === entry) owned.delete(path);
  });
  installExitHook();
  return entry;
}

function ownedHandle(entry: Owned, path: string): ChromaServer {
  entry.refs += 1;
  let released = false;
  const { host, port } = entry.state;
  return {
    host,
    port,
    url: `http://${host}:${port}`,
    path,
    reused: entry.refs > 1,
    pid: entry.child.pid,
    stop: async () => {
      if (released) return;
      released = true;
      entry.refs -= 1;
      if (entry.refs > 0) return;
      entry.stopping ??= (async () => {
        owned.delete(path);
        await stopChild(entry.child, entry.stopTimeoutMs);
        await rm(join(path, SERVER_STATE_FILE), { force: true });
      })();
      await entry.stopping;
    },
  };
}

function reusedHandle(state: ServerState): ChromaServer {
  return {
    host: state.host,
    port: state.port,
    url: `http://${state.host}:${state.port}`,
    path: state.path,
    reused: true,
    pid: state.pid,
    stop: async () => undefined,
  };
}

/** Stops a supervisor (and so its Chroma): SIGINT, then SIGKILL after the timeout. */
async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 1_000);
  await exited;
  clearTimeout(timer);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last word: ask every supervisor to stop its server. Their stdin closing would do
  // it too; this is quicker and does not depend on the pipe.
  process.once("exit", () => {
    for (const entry of owned.values()) entry.child.kill("SIGINT");
  });
}

function captureOutput(child: ChildProcess): () => string {
  let text = "";
  const append = (chunk: Buffer) => {
    text = (text + chunk.toString("utf8")).slice(-STDERR_LIMIT);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  return () => text.trim();
}

/** True when a Chroma server answers its heartbeat at host:port. */
export async function heartbeat(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  try {
    const response = await fetch(`http://${host}:${port}/api/v2/heartbeat`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return false;
    const body = (await response.json()) as Record<string, unknown>;
    return typeof body["nanosecond heartbeat"] === "number";
  } catch {
    return false;
  }
}

async function assertPortFree(host: string, port: number, path: string): Promise<void> {
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

function listening(host: string, port: number): Promise<boolean> {
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

async function ensureWritable(path: string): Promise<void> {
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
 * process alive and its heartbeat answering (a pid alone could have been reused by the OS).
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
  const running = isAlive(server.pid) && (await heartbeat(server.host, server.port));
  return { status: running ? "running" : "gone", server };
}

function isAlive(pid: number): boolean {
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

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
