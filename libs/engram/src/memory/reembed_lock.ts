/**
 * One `engram reembed` per data folder at a time. Two runs at once both copy and swap each user's
 * collection: the later one deleted, as "the original", the collection the first had just put in
 * its place, and the user's memories with it. A run holds a lock file in the data folder, created
 * exclusively, naming its process; a second run is refused with `REEMBED_RUNNING` while that
 * process lives. A run killed (`kill -9`, a power cut) leaves the file behind; the next run finds
 * its process gone and takes the lock over, so resuming needs nothing from the user.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import { createLock, lockHolder, releaseLock, takeOverLock, type LockHolder } from "../store/lock_file.js";

/** The lock file, in the data folder. */
export const REEMBED_LOCK_FILE = "engram-reembed.lock";

/** A held lock: `release` removes the file (only while it still names this run). */
export interface ReembedLock {
  release(): Promise<void>;
}

/** Takes the folder's reembed lock, or throws `REEMBED_RUNNING` when a live run holds it. */
export async function takeReembedLock(dataDir: string): Promise<ReembedLock> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, REEMBED_LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), nonce: randomUUID() };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await createLock(path, me)) return { release: () => releaseLock(path, me) };
    const holder = await lockHolder(path);
    if (holder === "none") continue; // released meanwhile
    if (holder !== undefined && alive(holder)) {
      throw new EngramError(
        "REEMBED_RUNNING",
        `Another \`engram reembed\` (process ${holder.pid} on ${holder.host ?? "this machine"}) is moving ${dataDir}: wait for it to finish. ` +
          `If no such process runs, delete ${path} and run it again (it resumes).`,
        { details: { dataDir, pid: holder.pid, host: holder.host ?? hostname() } },
      );
    }
    // Its run is gone (killed): the file is stale. One of the runs that found it so removes it
    // (a file that is not a lock at all is removed as it is).
    if (holder === undefined) await rm(path, { force: true });
    else await takeOverLock(path, holder);
  }
  throw new EngramError("REEMBED_RUNNING", `Could not take ${path}: other runs of \`engram reembed\` keep taking it. Wait for them to finish.`, {
    details: { dataDir },
  });
}

/** Whether the holder's process runs. On another host it cannot be checked: taken as running. */
function alive(holder: LockHolder): boolean {
  if (holder.host !== undefined && holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
