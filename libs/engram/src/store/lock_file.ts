/**
 * A lock file one process holds at a time, across processes on one machine: created exclusively
 * and whole, naming its holder, removed only by that holding, and taken over from a holder gone
 * stale by exactly one process. The start of a data folder's Chroma server (store/start_lock.ts)
 * and `engram reembed` (memory/reembed_lock.ts) each hold one; each decides when a holder is gone.
 */
import { link, readFile, rename, rm, writeFile } from "node:fs/promises";
import { isAlive, sleep } from "./chroma_probe.js";

/** What a lock file holds. */
export interface LockHolder {
  pid: number;
  /** The holder's start time (Linux: /proc/<pid>/stat), undefined where the OS does not say. */
  since?: string;
  /** Unique to this holding: a take-over removes exactly the lock it found stale. */
  nonce: string;
  /** The machine the holder runs on, when the lock may be on a folder other machines reach. */
  host?: string;
  /** The supervisor pid of the server a Chroma start launched (chroma_launch.ts), once spawned. */
  server?: number;
}

/** Creates the lock file naming `me`, whole (a link of a finished file); false when it exists. */
export async function createLock(file: string, me: LockHolder): Promise<boolean> {
  const draft = `${file}.${me.nonce}.tmp`;
  await writeFile(draft, JSON.stringify(me));
  try {
    await link(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  } finally {
    await rm(draft, { force: true });
  }
}

/** Rewrites the held lock naming `me` (renamed whole: a reader never reads half a file). */
export async function replaceLock(file: string, me: LockHolder): Promise<void> {
  const draft = `${file}.${me.nonce}.tmp`;
  await writeFile(draft, JSON.stringify(me));
  await rename(draft, file);
}

/** Removes the lock if it is still `me`'s holding (a holding taken over meanwhile is left alone). */
export async function releaseLock(file: string, me: LockHolder): Promise<void> {
  const now = await lockHolder(file);
  if (now !== "none" && now?.nonce === me.nonce) await rm(file, { force: true });
}

/** The lock's holder; "none" when there is no lock file; undefined when it cannot be read. */
export async function lockHolder(file: string): Promise<LockHolder | "none" | undefined> {
  let text: string;
  try {
    text = (await readFile(file, "utf8")).trim();
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "none" : undefined;
  }
  // A bare pid: the start lock file of an earlier release.
  if (/^\d+$/.test(text)) return { pid: Number(text), nonce: `pid-${text}` };
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null;
    if (!value || !Number.isInteger(value.pid) || typeof value.nonce !== "string" || !/^[\w-]+$/.test(value.nonce)) return undefined;
    return {
      pid: value.pid!,
      nonce: value.nonce,
      since: typeof value.since === "string" ? value.since : undefined,
      host: typeof value.host === "string" ? value.host : undefined,
      server: Number.isInteger(value.server) ? value.server : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * Removes a stale lock, once: the waiters that found it stale race here, and a waiter that read
 * it stale before another took it over and made a new one must not remove the new one. Only the
 * waiter that creates the claim for this holding (its nonce) removes it, and only while it still
 * names that holding. (A claimer killed between its claim and its removal: its claim is dropped
 * by the next waiter, the one window left, two processes killed within moments.)
 */
export async function takeOverLock(file: string, holder: LockHolder): Promise<void> {
  const claim = `${file}.${holder.nonce}.takeover`;
  try {
    await writeFile(claim, String(process.pid), { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const claimer = Number((await readFile(claim, "utf8").catch(() => "")).trim());
    if (Number.isInteger(claimer) && claimer > 0 && !isAlive(claimer)) await rm(claim, { force: true });
    await sleep(50);
    return;
  }
  try {
    const now = await lockHolder(file);
    if (now !== "none" && now?.nonce === holder.nonce) await rm(file, { force: true });
  } finally {
    await rm(claim, { force: true });
  }
}
