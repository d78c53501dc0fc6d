/**
 * tests/state_peer.ts's `Memory` (a given Chroma URL and shared state, the deterministic test
 * embedding) serving `forget` and `scheduleForget` too, for tests of forgetting passes racing other
 * processes' calls (memory/*merge*.int.test.ts, memory/*forget*.int.test.ts). Started by
 * `startForgetPeer` (tests/forget_peers.ts); the requests and replies are tests/memory_peer.ts's.
 *
 * Run as `node --import tsx forget_peer.ts '<json>'`, the JSON a {@link ForgetPeerOptions}.
 */
import { Memory } from "../memory/memory.js";
import type { MemoryOptions } from "../memory/options.js";
import { HashEmbeddings } from "./hash_embeddings.js";
import { serveMethods, type PeerMethod } from "./peer_server.js";
import type { StatePeerOptions } from "./state_peer.js";

export interface ForgetPeerOptions extends StatePeerOptions {
  /** A fixed time for every call of this process (its `clock`), instead of the wall clock. */
  frozenAt?: number;
}

const peer = JSON.parse(process.argv[2] ?? "{}") as ForgetPeerOptions;
const shift = peer.clockShiftMs ?? 0;
const options: MemoryOptions = {
  dataDir: peer.dataDir,
  chroma: { url: peer.chromaUrl },
  writes: peer.writes,
  // Every peer of a test must embed alike (the store's model marker).
  embeddings: new HashEmbeddings(),
  clock: peer.frozenAt !== undefined ? () => peer.frozenAt! : () => Date.now() + shift,
};
if (peer.postgres !== undefined) options.state = { postgres: peer.postgres };
const memory = new Memory(options);

const methods: Record<string, PeerMethod> = {
  add: memory.add.bind(memory),
  search: memory.search.bind(memory),
  get: memory.get.bind(memory),
  getAll: memory.getAll.bind(memory),
  update: memory.update.bind(memory),
  delete: memory.delete.bind(memory),
  history: memory.history.bind(memory),
  forget: memory.forget.bind(memory),
  flush: memory.flush.bind(memory),
  close: memory.close.bind(memory),
};
serveMethods(methods, { inOrder: false });
