/**
 * A `Memory` in its own process, driven over stdin/stdout one JSON line at a time, for tests of
 * what holds across processes sharing a store. Started by `startPeer` (tests/peers.ts) as
 * `node --import tsx memory_peer.ts '<options JSON>'`.
 *
 * Request: `{ "id": 1, "method": "search", "args": ["tea", { "userId": "alice" }] }`.
 * Reply: `{ "id": 1, "result": ... }` or `{ "id": 1, "error": { "name", "code", "message" } }`.
 */
import { createInterface } from "node:readline";
import { LocalEmbeddings } from "../embeddings/local.js";
import { Memory } from "../memory/memory.js";
import type { MemoryOptions } from "../memory/options.js";
import { HashEmbeddings } from "./hash_embeddings.js";

interface PeerOptions {
  dataDir: string;
  /** A shared server; without it the peer uses (or starts) the embedded server of `dataDir`. */
  chromaUrl?: string;
  writes?: "sync" | "background";
  /** "local": the real local model; "hash": the deterministic test embedding. */
  embeddings: "local" | "hash";
}

const peer = JSON.parse(process.argv[2] ?? "{}") as PeerOptions;
const options: MemoryOptions = {
  dataDir: peer.dataDir,
  writes: peer.writes ?? "sync",
  embeddings: peer.embeddings === "hash" ? new HashEmbeddings() : new LocalEmbeddings(),
};
if (peer.chromaUrl !== undefined) options.chroma = { url: peer.chromaUrl };
const memory = new Memory(options);

type Method = "add" | "search" | "get" | "getAll" | "update" | "delete" | "deleteAll" | "history" | "flush" | "close";
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

// One request at a time, in order: the test decides the interleaving between processes.
let queue: Promise<void> = Promise.resolve();
createInterface({ input: process.stdin }).on("line", (line) => {
  queue = queue.then(async () => {
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
  });
});
