import { describe, expect, it, jest } from "@jest/globals";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { START_LOCK_FILE } from "./start_lock.js";
import { tempDir } from "../tests/chroma.js";
import { waitFor } from "../tests/wait.js";
import { chromasServing, serverChildrenSuite, type ServerChild, type ServerReport } from "./tests/server_children.js";

/*
 * An application process is killed (SIGKILL) while it holds a data folder's start lock, its Chroma
 * server launched but not yet answering. Its supervisor then stops that server, which can take a
 * while (here it is frozen, so it ends with the supervisor's SIGKILL); the processes waiting for
 * the lock must take it over and start (or reuse) one server, and never run a second server on the
 * folder beside the dying one. Before, a waiter took the lock over as soon as the holder was gone
 * and launched its server while the dead holder's still ran on the folder.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const WAITERS = 2;
const { start, closeAll, frozen } = serverChildrenSuite();

async function lockHolder(path: string): Promise<string | undefined> {
  try {
    return await readFile(join(path, START_LOCK_FILE), "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Starts a process on a new folder and freezes its Chroma as soon as it runs, so that the process
 * is held inside its start (waiting for the heartbeat, holding the lock). Undefined when the
 * server answered first and the start was over before the freeze (the caller tries again).
 */
async function holderMidStart(path: string): Promise<{ holder: ServerChild; chroma: number } | undefined> {
  const holder = start(path);
  expect(await holder.next()).toEqual({ ready: true });
  let chroma: number | undefined;
  expect(await waitFor(() => (chroma = chromasServing(path)[0]) !== undefined, undefined, 5)).toBe(true);
  process.kill(chroma!, "SIGSTOP");
  frozen.push(chroma!);
  const lock = await lockHolder(path);
  if (lock === undefined || !lock.includes(String(holder.process.pid))) return undefined;
  return { holder, chroma: chroma! };
}

describe("a process killed while it starts a data folder's Chroma server", () => {
  it("its lock is taken over once its server is gone: one server, started or reused by every waiter, none beside the dying one", async () => {
    for (let round = 0, done = 0; done < 2; round++) {
      expect(round).toBeLessThan(6); // the freeze came too late this many times: not a start any more
      const path = join(await tempDir("engram-start-kill-"), "chroma");
      const mid = await holderMidStart(path);
      if (!mid) {
        await closeAll();
        continue;
      }
      done += 1;
      const waiters = Array.from({ length: WAITERS }, () => start(path));
      for (const waiter of waiters) expect(await waiter.next()).toEqual({ ready: true });

      // Killed mid-start: its supervisor sees the pipe close and stops the server, which is slow
      // to go (still frozen here: it ends with the supervisor's SIGKILL, its stop timeout later).
      mid.holder.process.kill("SIGKILL");
      let most = 0;
      let reports: ServerReport[] | undefined;
      const all = Promise.all(waiters.map((waiter) => waiter.next())).then((value) => (reports = value));
      while (reports === undefined) {
        most = Math.max(most, chromasServing(path).length);
        await Promise.race([all, new Promise((done) => setTimeout(done, 50))]);
      }
      expect({ round, errors: reports.filter((report) => report.error !== undefined) }).toEqual({ round, errors: [] });
      expect({ round, most, urls: new Set(reports.map((report) => report.url)).size, started: reports.filter((report) => !report.reused).length }).toEqual({
        round,
        most: 1,
        urls: 1,
        started: 1,
      });
      // The reuser lets go first, then the starter: nothing is left on the folder.
      const order = [...waiters.keys()].sort((a, b) => Number(!reports![a]!.reused) - Number(!reports![b]!.reused));
      for (const index of order) await waiters[index]!.close();
      expect(await waitFor(() => chromasServing(path).length === 0)).toBe(true);
      await lockHolder(path).then((lock) => expect(lock).toBeUndefined());
      await closeAll();
    }
  });
});
