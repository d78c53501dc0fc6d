/**
 * A user's process for embeddings/close.int.test.ts, run as
 * `node --import tsx close_child.ts '<json>'`: it uses Memory (mode "memory") or EngramStore (mode
 * "store") with the default embeddings (USE-Lite in worker threads) on the embedded default (a
 * local Chroma server in `dataDir`), closes it, and prints one JSON line: how many worker threads
 * were started and how many still run once close() returned. It then simply ends: the test
 * checks that the process exits by itself.
 */
import { createHook } from "node:async_hooks";
import { EngramStore } from "../entries/store.js";
import { Memory } from "../index.js";

interface ChildConfig {
  mode: "memory" | "store";
  dataDir: string;
}

const config = JSON.parse(process.argv[2] ?? "{}") as ChildConfig;

// Worker threads of this process, seen from outside the library: a Worker's handle is a "WORKER"
// resource, destroyed once its thread has stopped. (A test process may watch itself like this; a
// library may not.)
const workers = new Set<number>();
let started = 0;
createHook({
  init(id, type) {
    if (type !== "WORKER") return;
    workers.add(id);
    started += 1;
  },
  destroy(id) {
    workers.delete(id);
  },
}).enable();

/**
 * Lets the destroy hooks of handles that close() closed run before counting: a handle is freed in
 * the close phase of a loop turn and its destroy hook runs in a later turn's check phase. Counted
 * in turns, not milliseconds (a thread left running stops by itself after its 30 s idle timeout).
 */
async function settled(): Promise<void> {
  for (let turn = 0; turn < 10; turn += 1) await new Promise((done) => setImmediate(done));
}

if (config.mode === "memory") {
  const memory = new Memory({ dataDir: config.dataDir, writes: "sync" });
  await memory.add("I play the cello on Sundays.", { userId: "alice" });
  const hit = (await memory.search("which instrument do I play?", { userId: "alice", limit: 1 }))[0]?.content;
  await memory.close();
  await settled();
  console.log(JSON.stringify({ hit, started, runningAfterClose: workers.size }));
} else {
  const store = new EngramStore({ dataDir: config.dataDir });
  await store.put(["alice", "notes"], "cello", { text: "I play the cello on Sundays." });
  const hit = (await store.search(["alice", "notes"], { query: "which instrument do I play?", limit: 1 }))[0]?.key;
  await store.close();
  await settled();
  console.log(JSON.stringify({ hit, started, runningAfterClose: workers.size }));
}
