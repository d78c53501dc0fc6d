import type { ChildProcess } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import { fullDiskNote } from "../core/full_disk.js";
import { freePort, heartbeat, listening, SERVER_STATE_FILE, serverLives, serverOnFolder, sleep, type ServerState } from "./chroma_probe.js";
import { childExited, launch, outputs, STDERR_LIMIT, stopChild, type Launched } from "./chroma_launch.js";
import { withFetchPool } from "./fetch_pool.js";
import type { ChromaServer } from "./chroma_server.js";
import { underStartLock } from "./start_lock.js";

/*
 * The servers this process started, and keeping them alive: a server that dies on its own is
 * started again on its folder (with backoff, `maxRestarts` a minute, then CHROMA_EXITED), and
 * every handle to it follows the new port. Spawning is chroma_launch.ts's job.
 *
 * A restart is a start on the folder like any other: it holds the folder's start lock
 * (start_lock.ts), and a server another process started there meanwhile (one that had reused this
 * one and whose grace ran out) is joined, not doubled: the entry then points at that server
 * ("adopted": its own child stays the dead one) until it dies in turn.
 */

/** Deaths are counted over this window: `maxRestarts` in a minute, then `CHROMA_EXITED`. */
const RESTART_WINDOW_MS = 60_000;
/**
 * How long `heal` waits for the exit of a server that stopped answering (the event can lag: on a
 * loaded machine the supervisor takes seconds to see Chroma die and exit, and with 2 s here heal
 * gave up before the restart, so a CLI import after a kill -9 ended with a write left queued).
 */
const EXIT_WAIT_MS = 15_000;

export interface Owned {
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
export const owned = new Map<string, Owned>();

/** A server that dies on its own is restarted while someone holds a handle to it. */
export function watch(entry: Owned): void {
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
        let started: Launched | { adopted: ServerState };
        try {
          started = await underStartLock(entry.path, entry.startTimeoutMs, async (lock) => {
            // Checked again holding the lock: a process that reused this server may have started
            // one on the folder while this one was down (its grace ran out first).
            const found = await serverOnFolder(entry.path, entry.startTimeoutMs);
            if (found) return { adopted: found };
            // The old port is reused when free (clients reconnect unchanged); when something took
            // it, a new one: every handle reads host and port from the entry, so clients follow.
            const port = (await listening(host, entry.state.port)) ? await freePort(host) : entry.state.port;
            return launch(entry.path, host, port, entry.stopTimeoutMs, entry.startTimeoutMs, lock.launched);
          });
        } catch (error) {
          const stderr = (error as EngramError).details?.["stderr"];
          entry.deathOutput = (entry.deathOutput + "\n" + (typeof stderr === "string" ? stderr : (error as Error).message)).trim().slice(-STDERR_LIMIT);
          continue;
        }
        if ("adopted" in started) {
          // Handles follow the other process's server; that process restarts it when it dies.
          entry.state = started.adopted;
          return;
        }
        const { child, state } = started;
        if (entry.stopping) {
          await stopChild(child, entry.stopTimeoutMs);
          await forgetState(entry.path, child);
          return;
        }
        entry.child = child;
        entry.state = state;
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
  const full = fullDiskNote(entry.path);
  entry.failure = new EngramError(
    "CHROMA_EXITED",
    `The Chroma server for ${entry.path} exited ${entry.deaths.length} times within ${RESTART_WINDOW_MS / 1000} s; ` +
      `Engram stopped restarting it.` +
      // On a full disk Chroma exits during each start with only its banner to show.
      (full ? `${full} Free some space, then open the Memory again.` : ` Check the folder and the server's output, then open the Memory again.`) +
      (output ? `\nServer output:\n${output}` : ""),
    { details: { path: entry.path, exits: entry.deaths.length, stderr: output } },
  );
  if (owned.get(entry.path) === entry) owned.delete(entry.path);
  void forgetState(entry.path, entry.child).catch(() => undefined);
  return entry.failure;
}

/**
 * Removes the folder's state file if it still names `child`'s server and that server is gone,
 * holding the start lock: a server another process started on the folder (after this one died, or
 * adopted by it) keeps its file, or the next process would find no server and start a second one
 * beside it.
 */
async function forgetState(path: string, child: ChildProcess): Promise<void> {
  const file = join(path, SERVER_STATE_FILE);
  await underStartLock(path, FORGET_WAIT_MS, async () => {
    let pid: unknown;
    try {
      pid = (JSON.parse(await readFile(file, "utf8")) as { pid?: unknown } | null)?.pid;
    } catch {
      return;
    }
    if (pid !== child.pid) return;
    // A Chroma that outlived its supervisor (killed on its own) still serves the folder: its file
    // stays, so that the next process uses it rather than start a second server beside it.
    if ((await serverOnFolder(path, 0)) !== undefined) return;
    await rm(file, { force: true });
  }).catch(() => undefined); // no lock in time: the file names a stopped server, which reads as gone
}

/** How long a stop waits for the start lock to remove its state file. */
const FORGET_WAIT_MS = 10_000;

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
    if (await serverGone(entry)) {
      if (entry.maxRestarts === 0) return;
      return restart(entry);
    }
    if (Date.now() > deadline) return;
    await sleep(50);
  }
}

/**
 * Whether the server the entry is on is gone: its own supervisor exited and no Chroma of it
 * outlived it, or the processes of the server it adopted are gone. An adopted server that is only
 * slow to answer is waited for like an own one; before, each such heal counted as a death and
 * restarted (adopted it again), and a few in a minute ended in CHROMA_EXITED beside a live server.
 */
async function serverGone(entry: Owned): Promise<boolean> {
  if (entry.state.pid === entry.child.pid && !childExited(entry.child)) return false;
  return (await serverLives(entry.state)) === "no";
}

/** How long a suspected hung server gets to answer a plain read before it is restarted. */
const HUNG_PROBE_MS = 5_000;
/** How many collections the probe counts (each one's data read, side by side). */
const PROBED_COLLECTIONS = 8;

/**
 * A server whose requests time out: if it does not answer a plain read (the heartbeat is not
 * enough: a server whose disk filled up answers it and hangs on every collection request), its
 * supervisor is stopped (Chroma with it: SIGINT, then SIGKILL), and `watch` starts it again.
 */
async function recycleOwned(entry: Owned): Promise<void> {
  if (entry.failure) throw entry.failure;
  if (entry.restarting) return entry.restarting;
  if (entry.stopping) return;
  // Nothing else keeps the process alive meanwhile: not the hung server's socket, nor the probe's
  // deadline, nor the supervisor (unref'd). A script awaiting the call that met the hang ended in
  // the middle of it (exit code 13 under a top-level await), its write left queued.
  const hold = setInterval(() => undefined, 1_000);
  try {
    if (await answersRead(entry.state.host, entry.state.port)) return;
    const child = entry.child;
    if (!childExited(child)) {
      const exited = new Promise<void>((done) => child.once("exit", () => done()));
      child.kill("SIGTERM");
      await exited;
    }
    // watch()'s exit listener, registered first, has started the restart by now.
    await entry.restarting;
  } finally {
    clearInterval(hold);
  }
  if (entry.failure) throw entry.failure;
}

/**
 * Whether the server answers reads of collection data within the probe's deadline. Listing the
 * collections is not enough either: after its disk filled up, Chroma kept a lock on its own
 * SQLite file that it never let go, and answered the list (and the count of an empty collection)
 * while every read of a collection with records hung until it gave up with "database is locked";
 * each of Engram's calls then waited out the deadline again, and a flush took minutes.
 */
async function answersRead(host: string, port: number): Promise<boolean> {
  const base = `http://${host}:${port}/api/v2/tenants/default_tenant/databases/default_database/collections`;
  const signal = AbortSignal.timeout(HUNG_PROBE_MS);
  try {
    // Through a pool of its own: the process-wide one would keep this port's entry for ever (fetch_pool.ts).
    return await withFetchPool(async (pool) => {
      const listed = await fetch(`${base}?limit=${PROBED_COLLECTIONS}`, { signal, ...pool });
      if (!listed.ok) return false;
      const collections = (await listed.json()) as unknown;
      if (!Array.isArray(collections)) return false;
      const ids = collections.map((collection: unknown) => (collection as { id?: unknown })?.id).filter((id): id is string => typeof id === "string");
      const counts = await Promise.all(
        ids.map(async (id) => {
          const response = await fetch(`${base}/${encodeURIComponent(id)}/count`, { signal, ...pool });
          await response.arrayBuffer();
          return response.ok;
        }),
      );
      return counts.every(Boolean);
    });
  } catch {
    return false;
  }
}

export function ownedHandle(entry: Owned): ChromaServer {
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
      return entry.state.pid;
    },
    get restarts() {
      return entry.restarts;
    },
    settled: async () => {
      if (entry.failure) throw entry.failure;
      await entry.restarting;
    },
    heal: () => healOwned(entry),
    recycle: () => recycleOwned(entry),
    stop: async () => {
      if (released) return;
      released = true;
      entry.refs -= 1;
      if (entry.refs > 0) return;
      entry.stopping ??= (async () => {
        if (owned.get(entry.path) === entry) owned.delete(entry.path);
        await entry.restarting?.catch(() => undefined);
        await stopChild(entry.child, entry.stopTimeoutMs);
        if (!entry.failure) await forgetState(entry.path, entry.child);
      })();
      await entry.stopping;
    },
  };
}
