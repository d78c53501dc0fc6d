/**
 * Saying that a disk is full. SQLite says only "database or disk is full", and Chroma exits during
 * start with its banner as its only output: neither names the disk nor how much room is left, and
 * users read such errors as bugs. Errors met on a (nearly) full disk add the sentence below.
 */
import { statfsSync } from "node:fs";

/** Below this many bytes free, a failure to write is taken to come from the full disk. */
export const FULL_DISK_BYTES = 16 * 1024 * 1024;

/** Bytes free on the disk holding `path` for an unprivileged writer, or undefined if unknown. */
export function freeBytes(path: string): number | undefined {
  try {
    const { bavail, bsize } = statfsSync(path);
    return Number(bavail) * Number(bsize);
  } catch {
    return undefined;
  }
}

/**
 * " The disk holding <path> is full (N bytes free)." when it has less than `below` bytes free,
 * else "" (also when `path` cannot be examined: the error it decorates stays as it was).
 */
export function fullDiskNote(path: string, below = FULL_DISK_BYTES): string {
  const free = freeBytes(path);
  return free !== undefined && free < below ? ` The disk holding ${path} is full (${free} bytes free).` : "";
}
