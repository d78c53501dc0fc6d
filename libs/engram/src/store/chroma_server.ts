import { resolve } from "node:path";
import { EngramError } from "../core/errors.js";
import { assertPortFree, ensureWritable, freePort, heartbeat, localServerState, serverOnFolder, sleep, type ServerState } from "./chroma_probe.js";
import { launch } from "./chroma_launch.js";
import { underStartLock, type StartLock } from "./start_lock.js";
import { owned, ownedHandle, watch, type Owned } from "./chroma_restart.js";
import { describeValue } from "../core/describe.js";

/*
 * The local Chroma server as callers see it: start one on a data folder or reuse the one already
 * serving it (from this process or another), and hand out handles that follow restarts. Spawning
 * is in chroma_launch.ts, restarting in chroma_restart.ts, probes in chroma_probe.ts.
 */

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
  /**
   * How long to wait for the first heartbeat. The server is ready in well under a second on an idle
   * machine; the margin is for a loaded one (a CI box running tests beside it), where a start that
   * gives up too early fails the user's first call for nothing.
   * @default 60000
   */
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
   * Called when a request timed out (`chroma.timeoutMs`): a server this process started that lives
   * but does not answer a plain read within a few seconds is hung (seen after its disk filled
   * up), so it is stopped and started again, as if it had died (counted in `maxRestarts`); resolves
   * once the new one answers. A server that answers is left alone, and so is one another process
   * started (only `heal` applies to it).
   */
  recycle(): Promise<void>;
  /**
   * Releases this handle. The server stops when the last handle of the process that started it is
   * released; a reused server belongs to its starter and keeps running.
   */
  stop(): Promise<void>;
}

/** How long a reused server's starter is given to restart it before this process starts one. */
const REUSED_GRACE_MS = 3_000;

/** See `ChromaServerOptions.startTimeoutMs`. */
const DEFAULT_START_TIMEOUT_MS = 60_000;

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
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  if (typeof startTimeoutMs !== "number" || !Number.isFinite(startTimeoutMs) || startTimeoutMs <= 0) {
    throw new EngramError("INVALID_OPTIONS", `startTimeoutMs must be a number of milliseconds > 0, got ${describeValue(options.startTimeoutMs)}.`);
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
  // Another process may be starting one on this folder right now: one start at a time, and the
  // next finds the server the first started (store/start_lock.ts).
  return underStartLock(path, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, (lock) => startOrReuseNow(path, host, options, lock));
}

async function startOrReuseNow(path: string, host: string, options: ChromaServerOptions, lock: StartLock): Promise<Owned | ServerState> {
  const previous = await serverOnFolder(path, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  if (previous) return previous;
  let port = options.port;
  if (port !== undefined) {
    await assertPortFree(host, port, path);
  } else {
    port = await freePort(host);
  }
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const { child, state } = await launch(path, host, port, stopTimeoutMs, startTimeoutMs, lock.launched);
  const entry: Owned = {
    path,
    child,
    state,
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
    recycle: () => (own ? own.recycle() : heal()),
    stop: async () => {
      released = true;
      await healing?.catch(() => undefined);
      await own?.stop();
    },
  };
}
