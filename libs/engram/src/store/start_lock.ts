/**
 * One start of a local Chroma server per data folder at a time, across processes. Two processes
 * opening one new data folder at the same moment both found no server and both launched one on
 * the folder: the second's migration then died ("table collections already exists"), or two
 * servers ran on one folder. A start (the check for a running server, the launch, the state
 * file) runs holding a lock file in the folder, created exclusively; the others wait, then find
 * the server it started and reuse it. A restart after a server died takes the same lock.
 *
 * The file names its holder (pid, and on Linux the process's start time, so that a pid the OS
 * gave to another process since is not taken for the holder) and, once launched, the supervisor
 * of the server it is starting. A holder that is gone (killed during its start) leaves the lock
 * to the waiters only once that server is gone too: its supervisor stops it when its parent dies,
 * and a waiter that started a server meanwhile ran a second one on the folder beside the dying one.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import { isAlive, runs, sleep, startedAt } from "./chroma_probe.js";
import { createLock, lockHolder, releaseLock, replaceLock, takeOverLock, type LockHolder } from "./lock_file.js";

/** The lock file, in the Chroma data folder beside the server's state file. */
export const START_LOCK_FILE = "engram-chroma-start.lock";

/** What a start holding the lock tells it. */
export interface StartLock {
  /** Records the supervisor just spawned: waiters leave the lock alone until it is gone. */
  launched(pid: number | undefined): Promise<void>;
}

/**
 * Runs `start` holding the folder's start lock, waiting up to `waitMs` for another process's start
 * to finish. A lock whose holder process is gone (killed during its start) is taken over once the
 * server it was launching is gone too.
 * @throws EngramError `CHROMA_START_TIMEOUT` when another start holds it past `waitMs`.
 */
export async function underStartLock<T>(path: string, waitMs: number, start: (lock: StartLock) => Promise<T>): Promise<T> {
  const file = join(path, START_LOCK_FILE);
  const me: LockHolder = { pid: process.pid, since: await startedAt(process.pid), nonce: randomUUID() };
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await createLock(file, me)) break;
    const holder = await lockHolder(file);
    if (holder === "none") continue; // released meanwhile
    if (holder !== undefined && !(await holds(holder))) {
      await takeOverLock(file, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      const pid = holder?.pid;
      const server = holder?.server !== undefined && isAlive(holder.server) && !isAlive(holder.pid) ? holder.server : undefined;
      throw new EngramError(
        "CHROMA_START_TIMEOUT",
        server !== undefined
          ? `A process that died while starting the Chroma server for ${path} left a server (supervisor pid ${server}) that has not stopped in ${waitMs} ms; ` +
              `stop that process, or remove ${file} if it does not serve the folder.`
          : `Another process (pid ${pid ?? "unknown"}) has been starting the Chroma server for ${path} for over ${waitMs} ms; ` +
              `if no such process runs, remove ${file}.`,
        { details: { path, holder: pid, server } },
      );
    }
    await sleep(50);
  }
  const lock: StartLock = {
    launched: async (pid) => {
      if (pid === undefined) return;
      me.server = pid;
      // Replaced whole (rename), so a waiter never reads half a file. Best effort: without it a
      // waiter only takes the lock over sooner.
      await replaceLock(file, me).catch(() => undefined);
    },
  };
  try {
    return await start(lock);
  } finally {
    await releaseLock(file, me);
  }
}

/** Whether the lock's holder still holds it: it runs, or the server it launched does. */
async function holds(holder: LockHolder): Promise<boolean> {
  // Another process with the holder's pid (the OS reused it) does not hold the lock, nor does a
  // zombie (the holder exited; its parent has not reaped it yet).
  if ((await runs(holder.pid, holder.since)) !== "no") return true;
  // A server whose supervisor runs is still on the folder: its supervisor stops it now that its
  // parent is gone (stdin closed); a server started before that would run beside it.
  return holder.server !== undefined && (await runs(holder.server, undefined)) !== "no";
}
