import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Peer } from "./peers.js";
import type { StatePeerOptions } from "./state_peer.js";

/** A {@link Peer} that can also be killed: SIGKILL, resolved once the process is gone. */
export interface StatePeer extends Peer {
  kill(): Promise<void>;
}

/** What a call rejects with when the peer's Memory threw (tests/peers.ts has the same for its peers). */
export class StatePeerError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "StatePeerError";
  }
}

const SCRIPT = fileURLToPath(new URL("./state_peer.ts", import.meta.url));

/** Starts tests/state_peer.ts: a real Node process with its own Memory, talking JSON lines. */
export function startStatePeer(options: StatePeerOptions): StatePeer {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // Jest's flags are not for the peer
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, JSON.stringify(options)], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const exited = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      for (const { reject } of waiting.values()) reject(new Error(`peer exited (${code ?? signal}): ${stderr}`));
      waiting.clear();
      resolve();
    });
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    let reply: { id: number; result?: unknown; error?: { code?: string; message: string } };
    try {
      reply = JSON.parse(line);
    } catch {
      return; // not a reply
    }
    const waiter = waiting.get(reply.id);
    if (!waiter) return;
    waiting.delete(reply.id);
    if (reply.error) waiter.reject(new StatePeerError(reply.error.code, reply.error.message));
    else waiter.resolve(reply.result);
  });
  let next = 0;
  const call = <T>(method: string, ...args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = (next += 1);
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.stdin.write(JSON.stringify({ id, method, args }) + "\n");
    });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid!,
    call,
    close: async () => {
      if (running()) await call("close").catch(() => undefined);
      await exited;
    },
    kill: async () => {
      if (running()) child.kill("SIGKILL");
      await exited;
    },
  };
}
