import { afterEach } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/*
 * The parent's side of store/tests/server_child.ts: real application processes on one data
 * folder's Chroma server, and a count of the Chroma servers running on a folder.
 */

const CHILD = fileURLToPath(new URL("./server_child.ts", import.meta.url));

export interface ServerReport {
  ready?: boolean;
  url?: string;
  reused?: boolean;
  pid?: number;
  error?: string;
}

export interface ServerChild {
  process: ChildProcess;
  /** The child's next report (in order; waits for it). */
  next(): Promise<ServerReport>;
  /** Sends a command (`heal`, `url`) and waits for its report. */
  ask(command: string): Promise<ServerReport>;
  /** Ends its stdin (it stops its handle) and waits for its exit. */
  close(): Promise<void>;
}

export function serverChild(path: string, maxRestarts?: number): ServerChild {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, path, ...(maxRestarts === undefined ? [] : [String(maxRestarts)])], { env, stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const queued: ServerReport[] = [];
  const waiting: ((report: ServerReport) => void)[] = [];
  lines.on("line", (line) => {
    const report = JSON.parse(line) as ServerReport;
    const waiter = waiting.shift();
    if (waiter) waiter(report);
    else queued.push(report);
  });
  const exited = once(child, "exit");
  const next = (): Promise<ServerReport> => {
    const report = queued.shift();
    if (report) return Promise.resolve(report);
    return new Promise((done, fail) => {
      waiting.push(done);
      void exited.then(() => fail(new Error(`child ${child.pid} exited before reporting`)));
    });
  };
  return {
    process: child,
    next,
    ask: (command) => {
      child.stdin!.write(command + "\n");
      return next();
    },
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        await exited;
      }
    },
  };
}

/** Pids of the Chroma processes serving `path` (not their supervisors: see tests/chroma.ts chromaPid). */
export function chromasServing(path: string): number[] {
  return execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(".node run --path " + path + " "))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

/**
 * One test file's application processes and frozen (SIGSTOP) pids: after each test, whatever it
 * did, the frozen are thawed (a frozen Chroma or child would never exit) and every child closed.
 */
export function serverChildrenSuite(): {
  start(path: string, maxRestarts?: number): ServerChild;
  /** Closes the children started so far (a test's round that starts over). */
  closeAll(): Promise<void>;
  frozen: number[];
} {
  const children: ServerChild[] = [];
  const frozen: number[] = [];
  afterEach(async () => {
    for (const pid of frozen.splice(0)) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone already
      }
    }
    for (const child of children.splice(0)) {
      if (child.process.signalCode === null && child.process.exitCode === null) child.process.kill("SIGCONT");
      await child.close();
    }
  });
  return {
    start: (path, maxRestarts) => {
      const child = serverChild(path, maxRestarts);
      children.push(child);
      return child;
    },
    closeAll: async () => {
      for (const child of children.splice(0)) await child.close();
    },
    frozen,
  };
}

