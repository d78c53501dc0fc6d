/**
 * A serverless-like process for no_native.int.test.ts, run as `node --import
 * ../adapters/checkpointer/block_better_sqlite3.mjs --import tsx no_native_child.ts '<json>'`:
 * better-sqlite3 cannot load here. It imports the `engram` entry and, with a Chroma server by URL,
 * PostgreSQL state and the pure-JS static model, runs every Memory call; it prints one JSON line of
 * what it saw. Mode "sqlite" opens Memory's default (SQLite) state, which must fail: the block is real.
 */
import { Memory, StaticEmbeddings } from "../index.js";

interface ChildConfig {
  mode: "postgres" | "sqlite";
  pgUrl: string;
  chromaUrl: string;
  dataDir: string;
}

const config = JSON.parse(process.argv[2] ?? "{}") as ChildConfig;
const memory = new Memory({
  dataDir: config.dataDir,
  chroma: { url: config.chromaUrl },
  embeddings: new StaticEmbeddings(),
  writes: "sync",
  ...(config.mode === "postgres" ? { state: { postgres: config.pgUrl } } : {}),
});

if (config.mode === "sqlite") {
  const error = await memory.add("I play the cello.", { userId: "alice" }).then(
    () => "stored",
    (e: Error) => e.message,
  );
  console.log(JSON.stringify({ sqlite: error }));
} else {
  const user = { userId: "alice" };
  const { results } = await memory.add("I play the cello in an orchestra.", user);
  await memory.add("I live in Porto.", user);
  await memory.add("Bob likes chess.", { userId: "bob" });
  const id = results[0]!.id;
  const hit = (await memory.search("Which instrument do I play?", { ...user, limit: 1 }))[0]?.content;
  await memory.update(id, "I play the viola in an orchestra.", user);
  const got = (await memory.get(id, user))?.content;
  const history = (await memory.history(id, user)).map((entry) => entry.event);
  const flushed = await memory.flush();
  const usage = (await memory.usage(user)).total.calls;
  const erased = await memory.deleteAll(user);
  const left = (await memory.getAll(user)).length;
  const bob = (await memory.getAll({ userId: "bob" })).map((record) => record.content);
  const loaded = Object.keys((await import("node:module")).createRequire(import.meta.url).cache ?? {}).some((path) => path.includes("better-sqlite3"));
  console.log(JSON.stringify({ hit, got, history, pending: flushed.pending, usage, erased, left, bob, loaded }));
}
await memory.close();
