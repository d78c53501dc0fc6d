/**
 * A real small disk for a test: a tmpfs of a few MiB mounted on a fresh temporary folder (root
 * only: the suites that use it run as root, as CI does), that the test fills to the last byte with
 * a ballast file and empties again. SQLite and Chroma then meet the real ENOSPC / SQLITE_FULL of a
 * full disk, not a simulation. `unmount` must run in the suite's cleanup: a mount outlives the
 * process.
 */
import { execFileSync } from "node:child_process";
import { closeSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmallDisk {
  /** The mounted folder. */
  readonly dir: string;
  /** Writes a ballast file until the disk refuses a single byte more. */
  fill(): void;
  /** Removes the ballast: the disk has its space back. */
  empty(): void;
  /** Bytes free for an unprivileged writer. */
  freeBytes(): number;
  /** Unmounts the disk (everything on it is gone) and removes its folder. */
  unmount(): Promise<void>;
}

export async function mountSmallDisk(megabytes = 16): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), "engram-disk-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${megabytes}m`, "tmpfs", dir]);
  const ballast = join(dir, "ballast");
  return {
    dir,
    fill() {
      const fd = openSync(ballast, "a");
      try {
        // Large writes first, then single bytes, so that not one byte is left.
        for (const size of [1 << 20, 1 << 12, 1]) {
          const chunk = Buffer.alloc(size, 1);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    empty() {
      rmSync(ballast, { force: true });
    },
    freeBytes() {
      const { bavail, bsize } = statfsSync(dir);
      return Number(bavail) * Number(bsize);
    },
    async unmount() {
      execFileSync("umount", [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
