/**
 * A serverless-like process for memory/serverless.int.test.ts, run as
 * `node --import ./block_native.mjs --import tsx serverless_child.ts '<json>'`: better-sqlite3, TF.js
 * and Chroma's native bindings cannot load here. Mode "memory" runs Memory with `chroma: { url }`,
 * PostgreSQL state and StaticEmbeddings through every call and prints one JSON line of what it saw,
 * including every native addon (`.node` file) the process loaded; mode "sqlite" asks Memory for its
 * default SQLite state, which must fail (the block is real).
 */
import { existsSync } from "node:fs";
// The package's entry, as an app imports it: importing it must load no native addon either.
import { Memory, StaticEmbeddings } from "../index.js";

interface ChildConfig {
  mode: "memory" | "sqlite";
  pgUrl: string;
  chromaUrl: string;
  dataDir: string;
}

const config = JSON.parse(process.argv[2] ?? "{}") as ChildConfig;

/** The shared objects of this process that are Node addons. */
function addons(): string[] {
  const report = process.report.getReport() as unknown as { sharedObjects: string[] };
  return report.sharedObjects.filter((path) => path.endsWith(".node"));
}

const addonsAtImport = addons();
if (config.mode === "sqlite") {
  const memory = new Memory({ dataDir: config.dataDir, chroma: { url: config.chromaUrl }, embeddings: new StaticEmbeddings() });
  const error = await memory.add("I play the cello.", { userId: "alice" }).then(
    () => "loaded",
    (e: Error) => `${(e as { code?: string }).code ?? ""} ${e.message}`,
  );
  await memory.close().catch(() => undefined);
  console.log(JSON.stringify({ sqlite: error }));
} else {
  const memory = new Memory({
    dataDir: config.dataDir,
    chroma: { url: config.chromaUrl },
    state: { postgres: config.pgUrl },
    embeddings: new StaticEmbeddings(),
    writes: "sync",
  });
  const alice = { userId: "alice" };
  const added = await memory.add("I play the cello on Sundays.", alice);
  await memory.add("My sister lives in Porto.", alice);
  await memory.add("Bob keeps bees.", { userId: "bob" });
  const id = added.results[0]!.id;
  const hit = (await memory.search("which instrument do I play?", { ...alice, limit: 1 }))[0]?.content;
  await memory.update(id, "I play the viola on Sundays.", alice);
  const got = (await memory.get(id, alice))?.content;
  const history = (await memory.history(id, alice)).map((entry) => entry.event);
  const pending = (await memory.flush()).pending;
  const usage = (await memory.usage(alice)).total.calls;
  const sister = (await memory.search("sister", { ...alice, limit: 1 }))[0]!;
  await memory.delete(sister.id, alice);
  const afterDelete = (await memory.getAll(alice)).map((record) => record.content);
  const erased = await memory.deleteAll(alice);
  const left = (await memory.getAll(alice)).length + (await memory.search("viola", alice)).length;
  const bob = (await memory.getAll({ userId: "bob" })).map((record) => record.content);
  await memory.flush();
  await memory.close();
  console.log(
    JSON.stringify({
      hit,
      got,
      history,
      pending,
      usage,
      afterDelete,
      erased,
      left,
      bob,
      addonsAtImport,
      addons: addons(),
      dataDirMade: existsSync(config.dataDir),
    }),
  );
}
