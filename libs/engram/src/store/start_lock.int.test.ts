import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isEngramError } from "../core/errors.js";
import { START_LOCK_FILE, underStartLock } from "./start_lock.js";
import { tempDir } from "../tests/chroma.js";

/*
 * The start lock's own rules (store/start_lock.ts), with real processes as holders: a lock whose
 * pid now belongs to another process (the OS reused it) is taken over; a live holder is waited
 * for; a stale lock found by many waiters at once is taken over by one of them, and the starts
 * then run one at a time.
 */

jest.setTimeout(120_000);

const dirs: string[] = [];
const idle: ChildProcess[] = [];

afterAll(async () => {
  for (const child of idle) child.kill("SIGKILL");
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function folder(): Promise<string> {
  const dir = await tempDir("engram-start-lock-");
  dirs.push(dir);
  return dir;
}

/** A live process that holds nothing. */
async function idleProcess(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000); process.send('up')"], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  idle.push(child);
  await once(child, "message");
  return child.pid!;
}

/** A pid that ran and is gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
}

async function waitForZombie(pid: number): Promise<void> {
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return;
    await new Promise((done) => setTimeout(done, 20));
  }
}

async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

describe("the start lock of a data folder", () => {
  it("a lock whose pid now belongs to another live process is taken over", async () => {
    const dir = await folder();
    const other = await idleProcess();
    // The holder's start time is not the live process's: the holder is gone, its pid reused.
    const since = String(Number(await startTime(other)) - 100);
    await writeFile(join(dir, START_LOCK_FILE), JSON.stringify({ pid: other, since, nonce: "reused-holder" }));
    await expect(underStartLock(dir, 2_000, async () => "started")).resolves.toBe("started");
    expect(await readdir(dir)).toEqual([]);
  });

  it("a lock whose holder exited but is not reaped yet (a zombie: its parent is frozen or busy) is taken over", async () => {
    const dir = await folder();
    // `sleep 0` exits at once; its parent, now `sleep 60`, never reaps it.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "inherit"] });
    idle.push(parent);
    const [line] = (await once(parent.stdout!, "data")) as [Buffer];
    const zombie = Number(line.toString().trim());
    await waitForZombie(zombie);
    await writeFile(join(dir, START_LOCK_FILE), JSON.stringify({ pid: zombie, since: await startTime(zombie), nonce: "zombie-holder" }));
    await expect(underStartLock(dir, 2_000, async () => "started")).resolves.toBe("started");
  });

  it("a live holder is waited for, then CHROMA_START_TIMEOUT names it", async () => {
    const dir = await folder();
    const holder = await idleProcess();
    await writeFile(join(dir, START_LOCK_FILE), JSON.stringify({ pid: holder, since: await startTime(holder), nonce: "live-holder" }));
    const error = await underStartLock(dir, 300, async () => "started").catch((e: unknown) => e);
    expect(isEngramError(error) && error.code).toBe("CHROMA_START_TIMEOUT");
    expect((error as Error).message).toContain(`pid ${holder}`);
  });

  it("a dead holder's lock is waited for while the server it launched runs, then taken over", async () => {
    const dir = await folder();
    const server = await idleProcess();
    await writeFile(join(dir, START_LOCK_FILE), JSON.stringify({ pid: await deadPid(), nonce: "dead-holder", server }));
    const error = await underStartLock(dir, 300, async () => "started").catch((e: unknown) => e);
    expect(isEngramError(error) && error.code).toBe("CHROMA_START_TIMEOUT");
    expect((error as Error).message).toContain(`supervisor pid ${server}`);
    process.kill(server, "SIGKILL");
    await expect(underStartLock(dir, 60_000, async () => "started")).resolves.toBe("started");
  });

  it("many waiters on a dead holder's lock: one takes it over, the starts run one at a time", async () => {
    for (let round = 0; round < 10; round++) {
      const dir = await folder();
      await writeFile(join(dir, START_LOCK_FILE), String(await deadPid())); // as an earlier release wrote it
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 6 }, () =>
          underStartLock(dir, 60_000, async () => {
            inside += 1;
            most = Math.max(most, inside);
            await new Promise((done) => setTimeout(done, 5));
            inside -= 1;
          }),
        ),
      );
      expect({ round, most }).toEqual({ round, most: 1 });
      expect(await readdir(dir)).toEqual([]);
    }
  });
});
