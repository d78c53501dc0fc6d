/**
 * A `Memory` in its own process, driven over stdin/stdout one JSON line at a time, for tests of
 * what holds across processes sharing a store. Started by `startPeer` (tests/peers.ts) as
 * `node --import tsx memory_peer.ts '<options JSON>'`.
 *
 * Request: `{ "id": 1, "method": "search", "args": ["tea", { "userId": "alice" }] }`.
 * Reply: `{ "id": 1, "result": ... }` or `{ "id": 1, "error": { "name", "code", "message" } }`.
 */
import { LocalEmbeddings } from "../embeddings/local.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import type { MemoryOptions } from "../memory/options.js";
import { HashEmbeddings } from "./hash_embeddings.js";
import { servePeer } from "./peer_server.js";

interface PeerOptions {
  dataDir: string;
  /** A shared server; without it the peer uses (or starts) the embedded server of `dataDir`. */
  chromaUrl?: string;
  writes?: "sync" | "background";
  /** "local": the real local model; "static": the static model; "hash": the deterministic test embedding. */
  embeddings: "local" | "static" | "hash";
  /** Collection prefix on the server. @default "engram" */
  prefix?: string;
}

const peer = JSON.parse(process.argv[2] ?? "{}") as PeerOptions;
const options: MemoryOptions = {
  dataDir: peer.dataDir,
  writes: peer.writes ?? "sync",
  embeddings: peer.embeddings === "hash" ? new HashEmbeddings() : peer.embeddings === "static" ? new StaticEmbeddings() : new LocalEmbeddings(),
};
if (peer.prefix !== undefined) options.prefix = peer.prefix;
if (peer.chromaUrl !== undefined) options.chroma = { url: peer.chromaUrl };
const memory = new Memory(options);

servePeer(memory, { inOrder: true });
