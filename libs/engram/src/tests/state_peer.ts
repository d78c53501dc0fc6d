/**
 * A `Memory` in its own process over a given Chroma URL and a given shared state (the data folder's
 * SQLite, or PostgreSQL), driven over stdin/stdout one JSON line at a time with the requests and
 * replies of tests/memory_peer.ts; started by `startStatePeer` (tests/state_peers.ts). For the
 * tests of a store write's window (memory/update_window.int.test.ts): the test kills it with
 * SIGKILL in the middle of a write, or reads through it while another peer is in one.
 *
 * Run as `node --import tsx state_peer.ts '<json>'`, the JSON a {@link StatePeerOptions}.
 */
import { createInterface } from "node:readline";
import { Memory } from "../memory/memory.js";
import type { MemoryOptions } from "../memory/options.js";
import { HashEmbeddings } from "./hash_embeddings.js";

export interface StatePeerOptions {
  dataDir: string;
  chromaUrl: string;
  /** The shared state in PostgreSQL; without it, the data folder's SQLite. */
  postgres?: string;
  writes: "sync" | "background";
  /** Added to the wall clock (a process that runs "later", past a TTL). @default 0 */
  clockShiftMs?: number;
}

const peer = JSON.parse(process.argv[2] ?? "{}") as StatePeerOptions;
const shift = peer.clockShiftMs ?? 0;
const options: MemoryOptions = {
  dataDir: peer.dataDir,
  chroma: { url: peer.chromaUrl },
  writes: peer.writes,
  // The deterministic test embedding: every peer of a test must embed alike (the store's model marker).
  embeddings: new HashEmbeddings(),
  clock: () => Date.now() + shift,
};
if (peer.postgres !== undefined) options.state = { postgres: peer.postgres };
const memory = new Memory(options);

type Method = "add" | "search" | "get" | "getAll" | "update" | "delete" | "history" | "flush" | "close";
const methods: Record<Method, (...args: never[]) => Promise<unknown>> = {
  add: memory.add.bind(memory),
  search: memory.search.bind(memory),
  get: memory.get.bind(memory),
  getAll: memory.getAll.bind(memory),
  update: memory.update.bind(memory),
  delete: memory.delete.bind(memory),
  history: memory.history.bind(memory),
  flush: memory.flush.bind(memory),
  close: memory.close.bind(memory),
};

// Requests run one at a time, in order, except that a request may overtake one still running when
// the test sends it: a read must be able to run while this process's own write waits in a window.
createInterface({ input: process.stdin }).on("line", (line) => {
  void (async () => {
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
  })();
});
