/**
 * The child side of the peer processes of cross-process tests (tests/memory_peer.ts,
 * tests/state_peer.ts): serves a `Memory` over stdin/stdout one JSON line at a time.
 *
 * Request: `{ "id": 1, "method": "search", "args": ["tea", { "userId": "alice" }] }`.
 * Reply: `{ "id": 1, "result": ... }` or `{ "id": 1, "error": { "name", "code", "message" } }`.
 */
import { createInterface } from "node:readline";
import type { Memory } from "../memory/memory.js";

type Method = "add" | "search" | "get" | "getAll" | "update" | "delete" | "deleteAll" | "history" | "flush" | "close";

/**
 * `inOrder`: each request waits for the one before it (the test alone decides the interleaving
 * between processes). Otherwise a request starts when it arrives, so a read can run while this
 * process's own write waits in a window the test holds open.
 */
export function servePeer(memory: Memory, options: { inOrder: boolean }): void {
  const methods: Record<Method, (...args: never[]) => Promise<unknown>> = {
    add: memory.add.bind(memory),
    search: memory.search.bind(memory),
    get: memory.get.bind(memory),
    getAll: memory.getAll.bind(memory),
    update: memory.update.bind(memory),
    delete: memory.delete.bind(memory),
    deleteAll: memory.deleteAll.bind(memory),
    history: memory.history.bind(memory),
    flush: memory.flush.bind(memory),
    close: memory.close.bind(memory),
  };
  const answer = async (line: string): Promise<void> => {
    const request = JSON.parse(line) as { id: number; method: Method; args: unknown[] };
    let reply: Record<string, unknown>;
    try {
      const run = methods[request.method] as (...args: unknown[]) => Promise<unknown>;
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
