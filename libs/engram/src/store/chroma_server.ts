import { spawn, type ChildProcess } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { EngramError } from "../core/errors.js";
import {
  assertPortFree,
  chromaCliPath,
  ensureWritable,
  freePort,
  heartbeat,
  listening,
  localServerState,
  SERVER_STATE_FILE,
  sleep,
  type ServerState,
} from "./chroma_probe.js";
import { SUPERVISOR_SOURCE } from "./chroma_supervisor.js";
import { describeValue } from "../core/describe.js";

export {
  chromaCliPath,
  freePort,
  heartbeat,
  localServerState,
  SERVER_STATE_FILE,
  type LocalServerState,
  type ServerState,
} from "./chroma_probe.js";

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
  /**
   * How many times within a minute a server that exits on its own (crash, OOM kill, `kill -9`) is
   * started again on the same data folder, with backoff, before Engram gives up with
   * `CHROMA_EXITED`. 0: never restart (the server stays down once it dies).
   * @default 5
   */
  maxRestarts?: number;
}

/** A running local Chroma server. */
export interface ChromaServer {
  /** Where the server listens now: a restarted server may listen on another port. */
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
  /** How many times the server was started again after it died (0 for a reused server). */
  readonly restarts: number;
  /**
   * Resolves at once, or when a restart in progress has finished; rejects with `CHROMA_EXITED`
   * when the server kept dying and Engram gave up. Cheap: no request to the server.
   */
  settled(): Promise<void>;
  /**
   * Called when a request found the server unreachable: resolves once it answers again. A server
   * this process started is restarted if it died; for a reused server, its starter is given a
   * moment to restart it, then this process starts one on the folder. Rejects with
   * `CHROMA_EXITED` (with the server's output) when it keeps dying. A server that is alive but
   * does not answer (busy, hung) is left alone: the caller's retry reports the outage.
   */
  heal(): Promise<void>;
  /**
   * Releases this handle. The server stops when the last handle of the process that started it is
   * released; a reused server belongs to its starter and keeps running.
   */
  stop(): Promise<void>;
}

const STDERR_LIMIT = 8_192;
/** Deaths are counted over this window: `maxRestarts` in a minute, then `CHROMA_EXITED`. */
const RESTART_WINDOW_MS = 60_000;
/** How long a reused server's starter is given to restart it before this process starts one. */
const REUSED_GRACE_MS = 3_000;
/** How long `heal` waits for the exit of a server that stopped answering (the event can lag). */
const EXIT_WAIT_MS = 2_000;

interface Owned {
  path: string;
  child: ChildProcess;
  state: ServerState;
  refs: number;
  stopTimeoutMs: number;
  startTimeoutMs: number;
  maxRestarts: number;
  /** When the server died on its own, within the restart window. */
  deaths: number[];
  restarts: number;
  /** The output of the servers that died (the last few KiB), for `CHROMA_EXITED`. */
  deathOutput: string;
  stopping?: Promise<void>;
  restarting?: Promise<void>;
  /** Set when Engram gave up restarting. */
  failure?: EngramError;
}

/** Servers this process started, by absolute data folder, shared by every handle in the process. */
const owned = new Map<string, Owned>();
/** Starts in flight, so two concurrent starts on one folder share one server. */
const starting = new Map<string, Promise<Owned | ServerState>>();

/**
 * Starts the Chroma server shipped in the `chromadb` npm package as a child process serving
 * `options.path`, or reuses a healthy one already serving that folder (from this process or
 * another). Resolves once the server answers its heartbeat. A server it started is restarted on
 * the same folder when it dies (see `maxRestarts`).
 */
export async function startChromaServer(options: ChromaServerOptions): Promise<ChromaServer> {
  const path = resolve(options.path);
  const host = options.host ?? "127.0.0.1";
  const maxRestarts = options.maxRestarts ?? 5;
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0) {
    throw new EngramError("INVALID_OPTIONS", `maxRestarts must be a whole number >= 0, got ${describeValue(options.maxRestarts)}.`);
  }
  const local = owned.get(path);
  if (local && !local.stopping && !local.failure) return ownedHandle(local);

  let pending = starting.get(path);
  if (!pending) {
    pending = startOrReuse(path, host, options).finally(() => starting.delete(path));
    starting.set(path, pending);
  }
  const result = await pending;
  if ("child" in result) return ownedHandle(result);
  return reusedHandle(result, options);
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
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const child = await launch(path, host, port, stopTimeoutMs, startTimeoutMs);
  const entry: Owned = {
    path,
    child,
    state: { pid: child.pid ?? -1, host, port, path },
    refs: 0,
    stopTimeoutMs,
    startTimeoutMs,
    maxRestarts: options.maxRestarts ?? 5,
    deaths: [],
    restarts: 0,
    deathOutput: "",
  };
  owned.set(path, entry);
  watch(entry);
  return entry;
}

/** Spawns a supervised server and waits for its heartbeat; records it in the folder's state file. */
async function launch(path: string, host: string, port: number, stopTimeoutMs: number, startTimeoutMs: number): Promise<ChildProcess> {
  const cli = chromaCliPath();
  const args = ["run", "--path", path, "--host", host, "--port", String(port)];
  const child = spawn(
    process.execPath,
    ["-e", SUPERVISOR_SOURCE, cli, String(stopTimeoutMs), ...args],
    { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, CHROMA_TELEMETRY: "false" } },
  );
  const output = captureOutput(child);
  outputs.set(child, output);
  const exited = new Promise<number | string>((done) =>
    child.once("exit", (code, signal) => done(signal ?? code ?? "unknown")),
  );
  const deadline = Date.now() + startTimeoutMs;
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
        `${startTimeoutMs} ms.` + (stderr ? `\nServer output:\n${stderr}` : ""),
      { details: { path, host, port, stderr } },
    );
  }
  // Let the application exit without waiting on the server: when it does, the supervisor sees
  // its stdin close and stops Chroma. (No `process.on("exit")` hook: a library leaves no
  // listener on the host process, and the closing pipe is enough.)
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
  const state: ServerState = { pid: child.pid ?? -1, host, port, path };
  await writeFile(join(path, SERVER_STATE_FILE), JSON.stringify(state));
  return child;
}

/** The recent output of each supervisor this process spawned. */
const outputs = new WeakMap<ChildProcess, () => string>();

/** A server that dies on its own is restarted while someone holds a handle to it. */
function watch(entry: Owned): void {
  const child = entry.child;
  child.once("exit", () => {
    if (entry.child !== child) return;
    entry.deathOutput = (entry.deathOutput + "\n" + (outputs.get(child)?.() ?? "")).trim().slice(-STDERR_LIMIT);
    if (entry.stopping || entry.refs === 0 || entry.maxRestarts === 0) {
      // Not to be handed out again: the next start on this folder launches a new one.
      if (owned.get(entry.path) === entry) owned.delete(entry.path);
      return;
    }
    // Started at once, whether or not anyone is calling: the outbox's next drain finds it up.
    restart(entry).catch(() => undefined);
  });
}

/** Starts the server of `entry` again on its folder (same port when free), with backoff. */
function restart(entry: Owned): Promise<void> {
  entry.restarting ??= (async () => {
    try {
      for (;;) {
        const now = Date.now();
        entry.deaths = entry.deaths.filter((at) => now - at < RESTART_WINDOW_MS);
        entry.deaths.push(now);
        if (entry.deaths.length > entry.maxRestarts) throw giveUp(entry);
        // 0 ms for the first death in the window, then 250 ms doubling up to 4 s.
        const n = entry.deaths.length;
        await sleep(n <= 1 ? 0 : Math.min(250 * 2 ** (n - 2), 4_000));
        if (entry.stopping || entry.refs === 0) return;
        const { host } = entry.state;
        // Only the supervisor died (Chroma outlived it and still serves the folder): a second
        // server on the same folder is never started. Clients keep using it; should it die too,
        // the next heal finds it gone and starts one.
        if (await heartbeat(host, entry.state.port, 500)) return;
        // The old port is reused when free (clients reconnect unchanged); when something took it,
        // a new one: every handle reads host and port from the entry, so clients follow.
        const port = (await listening(host, entry.state.port)) ? await freePort(host) : entry.state.port;
        let child: ChildProcess;
        try {
          child = await launch(entry.path, host, port, entry.stopTimeoutMs, entry.startTimeoutMs);
        } catch (error) {
          const stderr = (error as EngramError).details?.["stderr"];
          entry.deathOutput = (entry.deathOutput + "\n" + (typeof stderr === "string" ? stderr : (error as Error).message)).trim().slice(-STDERR_LIMIT);
          continue;
        }
        if (entry.stopping) {
          await stopChild(child, entry.stopTimeoutMs);
          return;
        }
        entry.child = child;
        entry.state = { pid: child.pid ?? -1, host, port, path: entry.path };
        entry.restarts += 1;
        watch(entry);
        return;
      }
    } finally {
      entry.restarting = undefined;
    }
  })();
  return entry.restarting;
}

function giveUp(entry: Owned): EngramError {
  const output = entry.deathOutput;
  entry.failure = new EngramError(
    "CHROMA_EXITED",
    `The Chroma server for ${entry.path} exited ${entry.deaths.length} times within ${RESTART_WINDOW_MS / 1000} s; ` +
      `Engram stopped restarting it. Check the folder and the server's output, then open the Memory again.` +
      (output ? `\nServer output:\n${output}` : ""),
    { details: { path: entry.path, exits: entry.deaths.length, stderr: output } },
  );
  if (owned.get(entry.path) === entry) owned.delete(entry.path);
  void rm(join(entry.path, SERVER_STATE_FILE), { force: true }).catch(() => undefined);
  return entry.failure;
}

async function healOwned(entry: Owned): Promise<void> {
  if (entry.failure) throw entry.failure;
  if (entry.restarting) return entry.restarting;
  if (entry.stopping) return;
  const deadline = Date.now() + EXIT_WAIT_MS;
  for (;;) {
    if (await heartbeat(entry.state.host, entry.state.port, 1_000)) return;
    // The refused request can come before the exit event: give the event a moment.
    if (entry.failure) throw entry.failure;
    if (entry.restarting) return entry.restarting;
    if (childExited(entry.child)) {
      if (entry.maxRestarts === 0) return;
      return restart(entry);
    }
    if (Date.now() > deadline) return;
    await sleep(50);
  }
}

function childExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function ownedHandle(entry: Owned): ChromaServer {
  entry.refs += 1;
  let released = false;
  const reused = entry.refs > 1;
  return {
    get host() {
      return entry.state.host;
    },
    get port() {
      return entry.state.port;
    },
    get url() {
      return `http://${entry.state.host}:${entry.state.port}`;
    },
    path: entry.path,
    reused,
    get pid() {
      return entry.child.pid;
    },
    get restarts() {
      return entry.restarts;
    },
    settled: async () => {
      if (entry.failure) throw entry.failure;
      await entry.restarting;
    },
    heal: () => healOwned(entry),
    stop: async () => {
      if (released) return;
      released = true;
      entry.refs -= 1;
      if (entry.refs > 0) return;
      entry.stopping ??= (async () => {
        if (owned.get(entry.path) === entry) owned.delete(entry.path);
        await entry.restarting?.catch(() => undefined);
        await stopChild(entry.child, entry.stopTimeoutMs);
        if (!entry.failure) await rm(join(entry.path, SERVER_STATE_FILE), { force: true });
      })();
      await entry.stopping;
    },
  };
}

/**
 * A handle on a server another process started. When that server dies, its starter restarts it
 * and records the new port in the folder; if nobody does within a grace period, this process
 * starts one and the handle follows it.
 */
function reusedHandle(first: ServerState, options: ChromaServerOptions): ChromaServer {
  let state = first;
  let own: ChromaServer | undefined;
  let healing: Promise<void> | undefined;
  let released = false;
  const heal = async (): Promise<void> => {
    if (own) return own.heal();
    if (await heartbeat(state.host, state.port, 1_000)) return;
    const deadline = Date.now() + REUSED_GRACE_MS;
    while (Date.now() < deadline) {
      const found = await localServerState(state.path);
      if (found.status === "running") {
        state = found.server;
        return;
      }
      await sleep(100);
    }
    if (released) return;
    own = await startChromaServer({ ...options, path: state.path, port: undefined });
  };
  return {
    get host() {
      return own?.host ?? state.host;
    },
    get port() {
      return own?.port ?? state.port;
    },
    get url() {
      return own?.url ?? `http://${state.host}:${state.port}`;
    },
    path: state.path,
    reused: true,
    get pid() {
      return own?.pid ?? state.pid;
    },
    get restarts() {
      return own?.restarts ?? 0;
    },
    settled: async () => {
      await healing;
      await own?.settled();
    },
    heal: () => {
      healing ??= heal().finally(() => {
        healing = undefined;
      });
      return healing;
    },
    stop: async () => {
      released = true;
      await healing?.catch(() => undefined);
      await own?.stop();
    },
  };
}

/** Stops a supervisor (and so its Chroma): SIGINT, then SIGKILL after the timeout. */
async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (childExited(child)) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 1_000);
  await exited;
  clearTimeout(timer);
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

