/**
 * A `Memory` in its own process over a given Chroma URL and a given shared state (the data folder's
 * SQLite, or PostgreSQL), driven over stdin/stdout one JSON line at a time with the requests and
 * replies of tests/memory_peer.ts; started by `startStatePeer` (tests/state_peers.ts). For the
 * tests of a store write's window (memory/update_window.int.test.ts): the test kills it with
 * SIGKILL in the middle of a write, or reads through it while another peer is in one; and of
 * forgetting passes racing other processes' calls (tests/forget_peers.ts).
 *
 * Run as `node --import tsx state_peer.ts '<json>'`, the JSON a {@link StatePeerOptions}.
 */
import { Memory } from "../memory/memory.js";
import type { MemoryOptions } from "../memory/options.js";
import { HashEmbeddings } from "./hash_embeddings.js";
import { servePeer } from "./peer_server.js";

export interface StatePeerOptions {
  dataDir: string;
  chromaUrl: string;
  /** The shared state in PostgreSQL; without it, the data folder's SQLite. */
  postgres?: string;
  writes: "sync" | "background";
  /** Added to the wall clock (a process that runs "later", past a TTL). @default 0 */
  clockShiftMs?: number;
  /** A fixed time for every call of this process (its `clock`), instead of the wall clock. */
  frozenAt?: number;
}

const peer = JSON.parse(process.argv[2] ?? "{}") as StatePeerOptions;
const shift = peer.clockShiftMs ?? 0;
const options: MemoryOptions = {
  dataDir: peer.dataDir,
  chroma: { url: peer.chromaUrl },
  writes: peer.writes,
  // The deterministic test embedding: every peer of a test must embed alike (the store's model marker).
  embeddings: new HashEmbeddings(),
  clock: peer.frozenAt !== undefined ? () => peer.frozenAt! : () => Date.now() + shift,
};
if (peer.postgres !== undefined) options.state = { postgres: peer.postgres };
const memory = new Memory(options);

servePeer(memory, { inOrder: false });
