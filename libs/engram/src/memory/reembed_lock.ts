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
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";

/** The lock file, in the data folder. */
export const REEMBED_LOCK_FILE = "engram-reembed.lock";

interface Holder {
  pid: number;
  host: string;
  nonce: string;
}

/** A held lock: `release` removes the file (only while it still names this run). */
export interface ReembedLock {
  release(): Promise<void>;
}

/** Takes the folder's reembed lock, or throws `REEMBED_RUNNING` when a live run holds it. */
export async function takeReembedLock(dataDir: string): Promise<ReembedLock> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, REEMBED_LOCK_FILE);
  const me: Holder = { pid: process.pid, host: hostname(), nonce: randomUUID() };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await create(path, me)) {
      return {
        release: async () => {
          const holder = await holderOf(path);
          if (holder !== "none" && holder?.nonce === me.nonce) await unlink(path).catch(() => undefined);
        },
      };
    }
    const holder = await holderOf(path);
    if (holder !== undefined && holder !== "none" && alive(holder)) {
      throw new EngramError(
        "REEMBED_RUNNING",
        `Another \`engram reembed\` (process ${holder.pid} on ${holder.host}) is moving ${dataDir}: wait for it to finish. ` +
          `If no such process runs, delete ${path} and run it again (it resumes).`,
        { details: { dataDir, pid: holder.pid, host: holder.host } },
      );
    }
    // Its run is gone (killed): the file is stale. (Two runs taking over the same stale file at
    // the same moment is the one window left: both read it stale before either replaced it.)
    if (holder !== "none") await unlink(path).catch(() => undefined);
  }
  throw new EngramError("REEMBED_RUNNING", `Could not take ${path}: other runs of \`engram reembed\` keep taking it. Wait for them to finish.`, {
    details: { dataDir },
  });
}

/** Creates the lock file naming `me`, whole (a link of a finished file); false when it exists. */
async function create(path: string, me: Holder): Promise<boolean> {
  const draft = `${path}.${me.nonce}`;
  await writeFile(draft, JSON.stringify(me));
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/** The holder the file names; "none" without a file; undefined when it cannot be read as one (taken as stale). */
async function holderOf(path: string): Promise<Holder | "none" | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "none";
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (typeof value.pid === "number" && typeof value.host === "string" && typeof value.nonce === "string") return value as Holder;
  } catch {
    // a torn or foreign file: stale
  }
  return undefined;
}

/** Whether the holder's process runs. On another host it cannot be checked: taken as running. */
function alive(holder: Holder): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
