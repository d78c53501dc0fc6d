import { afterAll, beforeAll } from "@jest/globals";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startTestChroma, type TestChroma } from "./chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "./postgres.js";

/** What a peer's `call` rejects with when the peer's Memory threw. */
export class PeerError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "PeerError";
  }
}

/** A `Memory` running in another process (tests/memory_peer.ts). */
export interface Peer {
  readonly pid: number;
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  /** Closes the peer's Memory, then waits for the process to exit. */
  close(): Promise<void>;
}

export interface PeerOptions {
  dataDir: string;
  chromaUrl?: string;
  writes?: "sync" | "background";
  embeddings: "local" | "static" | "hash";
  prefix?: string;
}

const PEER_SCRIPT = fileURLToPath(new URL("./memory_peer.ts", import.meta.url));

/** Starts a peer process: a real Node process with its own Memory, talking JSON lines. */
export function startPeer(options: PeerOptions): Peer {
  return startScriptPeer(PEER_SCRIPT, options);
}

/** A {@link Peer} that can also be killed: SIGKILL, resolved once the process is gone. */
export interface KillablePeer extends Peer {
  kill(): Promise<void>;
}

/**
 * Runs `script` (a peer speaking the JSON-lines protocol of tests/memory_peer.ts: one `{ id,
 * method, args }` per line in, one `{ id, result }` or `{ id, error }` per line out) in a real Node
 * process, with `options` as its one argument.
 */
export function startScriptPeer(script: string, options: unknown): KillablePeer {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // Jest's flags are not for the peer
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["--import", "tsx", script, JSON.stringify(options)], {
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
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
      return; // not a reply (a library printing to stdout would land here)
    }
    const waiter = waiting.get(reply.id);
    if (!waiter) return;
    waiting.delete(reply.id);
    if (reply.error) waiter.reject(new PeerError(reply.error.code, reply.error.message));
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

/** What a suite of cross-process tests gets from `peerSuite()`. */
export interface PeerSuite {
  /** The suite's Chroma server and temporary folder (from the suite's own hooks on). */
  readonly chroma: TestChroma;
  /** Starts a peer process, closed after the suite. */
  start(options: PeerOptions): Peer;
}

/**
 * A real Chroma server started before the suite; after it, every peer started closed (later ones
 * first: the first on a data folder owns its embedded server), then the server stopped. Call it
 * at the top of a `describe`, as `testMemories()`.
 */
export function peerSuite(): PeerSuite {
  const peers: Peer[] = [];
  let chroma: TestChroma | undefined;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => {
    for (const peer of peers.splice(0).reverse()) await peer.close();
    await chroma?.stop();
  });
  return {
    get chroma() {
      if (chroma === undefined) throw new Error("peerSuite(): the test server starts in beforeAll; use it from a hook or a test.");
      return chroma;
    },
    start(options) {
      const peer = startPeer(options);
      peers.push(peer);
      return peer;
    },
  };
}

/** What a suite of race tests across processes gets from `raceSuite()`. */
export interface RaceSuite {
  /** The suite's Chroma server and temporary folder (from the suite's own hooks on). */
  readonly chroma: TestChroma;
  /** A new database on the suite's PostgreSQL server, started on first use. */
  database(name: string): Promise<string>;
  /** Keeps `peer` to be closed after the suite (later ones first); returns it. */
  keep<P extends { close(): Promise<void> }>(peer: P): P;
}

/**
 * A real Chroma server started before the suite and, when a test asks for a database, a real
 * PostgreSQL server; after the suite, every kept peer closed, then both servers stopped. Call it
 * at the top of a test file or `describe`.
 */
export function raceSuite(): RaceSuite {
  const kept: Array<{ close(): Promise<void> }> = [];
  let chroma: TestChroma | undefined;
  let postgres: Promise<TestPostgres> | undefined;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => {
    for (const peer of kept.splice(0).reverse()) await peer.close();
    await (await postgres?.catch(() => undefined))?.stop();
    await chroma?.stop();
  });
  return {
    get chroma() {
      if (chroma === undefined) throw new Error("raceSuite(): the test server starts in beforeAll; use it from a hook or a test.");
      return chroma;
    },
    async database(name) {
      postgres ??= startPostgres();
      return freshDatabase((await postgres).url, name);
    },
    keep(peer) {
      kept.push(peer);
      return peer;
    },
  };
}
