/**
 * Space set aside next to the SQLite file for the rows an instance must remove when it closes.
 * On a full disk SQLite cannot even delete a row (the change goes to the write-ahead log first,
 * which must grow), so a Memory closed while its disk was full left its drain lock and write
 * leases behind, naming a process that still runs: every other instance on the folder waited for
 * them to lapse (a minute) once the disk had space again. The state keeps a small file of real
 * bytes beside its database, made when it opens; `close()` deletes it when its last removals
 * fail, and tries them again in the room it freed. The next open makes it again.
 */
import { closeSync, openSync, rmSync, statSync, writeSync } from "node:fs";

/** Enough for the closing removals: a few write-ahead log frames (4 KiB pages) per row. */
export const RESERVE_BYTES = 1 << 20;

/** The reserve of the database `file`: `<file>-reserve`, beside its `-wal` and `-shm`. */
export function reserveFile(file: string): string {
  return `${file}-reserve`;
}

/**
 * Makes the reserve of `file` when it is missing or short. Best effort: on a disk already full it
 * stays missing (and whatever was written is removed, to give the space back), and the next open
 * tries again.
 */
export function keepReserve(file: string): void {
  const reserve = reserveFile(file);
  try {
    if (statSync(reserve).size >= RESERVE_BYTES) return;
  } catch {
    // Missing: made below.
  }
  let made = false;
  try {
    const fd = openSync(reserve, "w");
    try {
      // Written bytes, not a sparse file: the space must really be taken now to be there later.
      made = writeSync(fd, Buffer.alloc(RESERVE_BYTES)) === RESERVE_BYTES;
    } finally {
      closeSync(fd);
    }
  } catch {
    // No space (or no right to write here): no reserve this time.
  }
  if (!made) spendReserve(file);
}

/** Deletes the reserve of `file` (its space is free at once); whether there was one. */
export function spendReserve(file: string): boolean {
  try {
    rmSync(reserveFile(file));
    return true;
  } catch {
    return false;
  }
}
