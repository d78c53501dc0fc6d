/**
 * A user's process for memory/fetch_pool_leak.int.test.ts, run as
 * `node --import tsx fetch_pool_child.ts '<json>'`: it opens `folders` Memories one after the
 * other on the embedded default (a local Chroma server per data folder, each on its own port),
 * adds and searches in each, closes it, and prints one JSON line: how many origins Node's
 * process-wide fetch pool holds before and after, and what each search found first. Run in a
 * child because a Jest test's globals are not the process's: the pool lives on the real one.
 */
import { join } from "node:path";
import { Memory, StaticEmbeddings } from "../index.js";

interface ChildConfig {
  root: string;
  folders: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as ChildConfig;

/** Origins (host:port) in undici's global Agent, which Node's fetch uses: it never drops one. */
function pooledOrigins(): number {
  void globalThis.Request; // loads Node's fetch, which installs the pool
  const pool = (globalThis as Record<symbol, object | undefined>)[Symbol.for("undici.globalDispatcher.1")];
  const clients = pool && Object.getOwnPropertySymbols(pool).find((symbol) => symbol.description === "clients");
  const map = pool && clients ? (pool as Record<symbol, Map<string, unknown> | undefined>)[clients] : undefined;
  if (!map) throw new Error("Node's fetch pool has no client map: this Node version keeps it elsewhere");
  return map.size;
}

const embeddings = new StaticEmbeddings();
const before = pooledOrigins();
const hits: Array<string | undefined> = [];
for (let i = 0; i < config.folders; i += 1) {
  const memory = new Memory({ dataDir: join(config.root, `folder-${i}`), embeddings });
  try {
    await memory.add("I keep bees on the roof.", { userId: "alice" });
    hits.push((await memory.search("bees", { userId: "alice" }))[0]?.content);
  } finally {
    await memory.close();
  }
}
console.log(JSON.stringify({ before, after: pooledOrigins(), hits }));
