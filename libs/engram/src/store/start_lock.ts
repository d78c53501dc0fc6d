/**
 * One start of a local Chroma server per data folder at a time, across processes. Two processes
 * opening one new data folder at the same moment both found no server and both launched one on
 * the folder: the second's migration then died ("table collections already exists"), or two
 * servers ran on one folder. A start (the check for a running server, the launch, the state
 * file) runs holding a lock file in the folder, created exclusively; the others wait, then find
 * the server it started and reuse it.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import { isAlive, sleep } from "./chroma_probe.js";

/** The lock file, in the Chroma data folder beside the server's state file. */
export const START_LOCK_FILE = "engram-chroma-start.lock";

/**
 * Runs `start` holding the folder's start lock, waiting up to `waitMs` for another process's start
 * to finish. A lock whose holder process is gone (killed during its start) is taken over.
 * @throws EngramError `CHROMA_START_TIMEOUT` when another start holds it past `waitMs`.
 */
export async function underStartLock<T>(path: string, waitMs: number, start: () => Promise<T>): Promise<T> {
  const file = join(path, START_LOCK_FILE);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await holderOf(file);
    if (holder !== undefined && !isAlive(holder)) {
      // Removed only while it still names the dead holder: a waiter that took it over since keeps it.
      if ((await holderOf(file)) === holder) await rm(file, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new EngramError(
        "CHROMA_START_TIMEOUT",
        `Another process (pid ${holder ?? "unknown"}) has been starting the Chroma server for ${path} for over ${waitMs} ms; ` +
          `if no such process runs, remove ${file}.`,
        { details: { path, holder } },
      );
    }
    await sleep(50);
  }
  try {
    return await start();
  } finally {
    await rm(file, { force: true });
  }
}

async function holderOf(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
