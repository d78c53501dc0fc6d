/**
 * The child side of the peer processes of cross-process tests (tests/memory_peer.ts,
 * tests/state_peer.ts, and the store and checkpointer peers): serves a `Memory`, or any methods,
 * over stdin/stdout one JSON line at a time.
 *
 * Request: `{ "id": 1, "method": "search", "args": ["tea", { "userId": "alice" }] }`.
 * Reply: `{ "id": 1, "result": ... }` or `{ "id": 1, "error": { "name", "code", "message" } }`.
 */
import { createInterface } from "node:readline";
import type { Memory } from "../memory/memory.js";

type Method = "add" | "search" | "get" | "getAll" | "update" | "delete" | "deleteAll" | "history" | "forget" | "flush" | "close";

/**
 * `inOrder`: each request waits for the one before it (the test alone decides the interleaving
 * between processes). Otherwise a request starts when it arrives, so a read can run while this
 * process's own write waits in a window the test holds open.
 */
export function servePeer(memory: Memory, options: { inOrder: boolean }): void {
  const methods: Record<Method, PeerMethod> = {
    add: memory.add.bind(memory),
    search: memory.search.bind(memory),
    get: memory.get.bind(memory),
    getAll: memory.getAll.bind(memory),
    update: memory.update.bind(memory),
    delete: memory.delete.bind(memory),
    deleteAll: memory.deleteAll.bind(memory),
    history: memory.history.bind(memory),
    forget: memory.forget.bind(memory),
    flush: memory.flush.bind(memory),
    close: memory.close.bind(memory),
  };
  serveMethods(methods, options);
}

/** A method a peer serves: its arguments come as JSON, its result goes back as JSON. */
export type PeerMethod = (...args: never[]) => Promise<unknown>;

/**
 * Serves `methods` over stdin/stdout with this file's protocol (any peer: a `Memory`, a store, a
 * checkpointer). An unknown method is answered with an error; `close` ends the process once answered.
 */
export function serveMethods(methods: Record<string, PeerMethod>, options: { inOrder: boolean } = { inOrder: false }): void {
  const answer = async (line: string): Promise<void> => {
    const request = JSON.parse(line) as { id: number; method: string; args: unknown[] };
    let reply: Record<string, unknown>;
    try {
      const run = methods[request.method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
      if (!run) throw new Error(`unknown method ${request.method}`);
      reply = { id: request.id, result: (await run(...request.args)) ?? null };
    } catch (error) {
      const e = error as { name?: string; code?: string; message?: string };
      reply = { id: request.id, error: { name: e?.name, code: e?.code, message: e?.message ?? String(error) } };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
    if (request.method === "close") process.exit(0);
  };
  let queue: Promise<void> = Promise.resolve();
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (options.inOrder) queue = queue.then(() => answer(line));
    else void answer(line);
  });
}
