import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChromaClient } from "chromadb";
import { EngramStore } from "../adapters/store/engram_store.js";
import { isEngramError } from "../core/errors.js";
import { embeddingsIdentity, LEGACY_DEFAULT_MODEL_ID } from "../embeddings/identity.js";
import { LocalEmbeddings } from "../embeddings/local.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { readStoreModel, REEMBED_PENDING } from "../store/model_marker.js";
import { openDatabase, type SqliteDatabase } from "../state/sqlite/database.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { runCli } from "./program.js";

/** The model the folder's SQLite state records (the `embeddings` key of `engram_meta`). */
function readFolderModel(db: SqliteDatabase): string | undefined {
  const table = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'engram_meta'").get()!.n;
  return table === 0 ? undefined : db.prepare<[], { value: string }>("SELECT value FROM engram_meta WHERE key = 'embeddings'").get()?.value;
}


const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const USERS = ["ana", "ben", "cleo", "dev"];
const PER_USER = 30;
/** One fact per user that a paraphrased question must find after the move. */
const FACTS: Record<string, [string, string]> = {
  ana: ["I am allergic to peanuts, so recipes must avoid them.", "Which foods should I not eat?"],
  ben: ["My sister works as a nurse in Lisbon.", "What is my sibling's job?"],
  cleo: ["We ship the mobile app every second Thursday.", "When do releases of the phone application go out?"],
  dev: ["I play the cello in a community orchestra.", "Which musical instrument do I practise?"],
};

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/**
 * `engram reembed` in a real child process (the CLI from its sources). With `killWhen`, the child
 * is killed with SIGKILL as soon as its progress output matches.
 */
function runReembed(args: string[], killWhen?: (stderr: string) => boolean): Promise<Child> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "reembed", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const result: Child = { code: null, signal: null, out: "", err: "" };
  child.stdout.on("data", (chunk: Buffer) => void (result.out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => {
    result.err += chunk.toString();
    if (killWhen?.(result.err) && child.exitCode === null) child.kill("SIGKILL");
  });
  return new Promise((done) =>
    child.on("exit", (code, signal) => {
      result.code = code;
      result.signal = signal;
      done(result);
    }),
  );
}

describe("engram reembed", () => {
  let chroma: TestChroma;
  let dataDir: string;
  let args: string[];
  beforeAll(async () => {
    chroma = await startTestChroma();
    dataDir = join(chroma.dir, "data");
    args = ["--data-dir", dataDir, "--chroma-url", chroma.server.url, "--model", "use-lite", "--batch-size", "4"];
    const seed = new Memory({ dataDir, chroma: { url: chroma.server.url }, embeddings: new StaticEmbeddings(), writes: "sync" });
    for (const user of USERS) {
      const texts = [FACTS[user]![0], ...Array.from({ length: PER_USER - 1 }, (_, i) => `${user} noted item ${i} of an ordinary day: errands, weather, lunch number ${i}.`)];
      await seed.add(texts.map((content) => ({ role: "user", content })), { userId: user });
    }
    await seed.close();
  });
  afterAll(async () => chroma.stop());

  it("moves a folder to another model, resumes after kill -9, and records the model at the end", async () => {
    // Killed once a tenth or more, and not all, of the work is done.
    const killed = await runReembed(args, (err) => /reembed\s+([1-9]\d)% /.test(err));
    expect(killed.signal).toBe("SIGKILL");
    const doneBeforeKill = Number(/(\d+)\/120 memories/.exec(killed.err.trim().split("\n").pop()!)?.[1]);
    expect(doneBeforeKill).toBeGreaterThan(0);
    expect(doneBeforeKill).toBeLessThan(120);

    // Half-moved: neither model may open it, and the message says how to finish.
    const db = openDatabase(join(dataDir, "engram.sqlite"));
    expect(readFolderModel(db)).toBe(`${REEMBED_PENDING}${LEGACY_DEFAULT_MODEL_ID}`);
    db.close();
    for (const embeddings of [new StaticEmbeddings(), new LocalEmbeddings()]) {
      const memory = new Memory({ dataDir, chroma: { url: chroma.server.url }, embeddings });
      const error = await memory.search("anything", { userId: "ana" }).catch((e: unknown) => e as Error);
      expect(isEngramError(error, "EMBEDDINGS_MISMATCH")).toBe(true);
      expect((error as Error).message).toMatch(/did not finish.*engram reembed --data-dir/);
      await memory.close();
      await (embeddings as { close?: () => Promise<void> }).close?.();
    }

    const resumed = await runReembed(args);
    expect(resumed.code).toBe(0);
    const moved = Number(/Re-embedded (\d+) of 120 memories in 4 collections/.exec(resumed.out)?.[1]);
    // The second run did only what the first left (at most one unfinished step is redone).
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThanOrEqual(120 - doneBeforeKill + 4);
    expect(resumed.out).toContain(`to "${LEGACY_DEFAULT_MODEL_ID}"`);
    expect(resumed.err).toMatch(/reembed 100% 120\/120 memories/);

    const after = openDatabase(join(dataDir, "engram.sqlite"));
    expect(readFolderModel(after)).toBe(LEGACY_DEFAULT_MODEL_ID);
    after.close();
    const client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
    expect(await readStoreModel(client, "engram")).toBe(LEGACY_DEFAULT_MODEL_ID);
    expect((await client.listCollections({ limit: 1000 })).filter((c) => c.name.endsWith("-reembed"))).toEqual([]);
    const users = (await client.listCollections({ limit: 1000 })).filter((c) => c.name.startsWith("engram-u-"));
    expect(users).toHaveLength(4);
    // The copies that replaced them keep Engram's cosine space.
    for (const collection of users) expect(collection.metadata?.["hnsw:space"]).toBe("cosine");

    // Every record is there once, and USE-Lite's vectors find each user's fact by a paraphrase.
    const useLite = new LocalEmbeddings();
    const memory = new Memory({ dataDir, chroma: { url: chroma.server.url }, embeddings: useLite });
    for (const user of USERS) {
      const all = await memory.getAll({ userId: user, limit: 1000 });
      expect(all).toHaveLength(PER_USER);
      expect(new Set(all.map((record) => record.id)).size).toBe(PER_USER);
      const [fact, question] = FACTS[user]!;
      const hits = await memory.search(question, { userId: user, limit: 3, ranker: { lexical: 0 } });
      expect(hits.map((hit) => hit.content)).toContain(fact);
    }
    await memory.close();
    await useLite.close();

    // And the model that wrote the folder before is now the one refused.
    const old = new Memory({ dataDir, chroma: { url: chroma.server.url }, embeddings: new StaticEmbeddings() });
    const refused = await old.getAll({ userId: "ana" }).catch((e: unknown) => e);
    expect(isEngramError(refused, "EMBEDDINGS_MISMATCH")).toBe(true);
    await old.close();
  });

  it("opens a folder of a model it cannot run for commands that need no vector, and says why search cannot", async () => {
    /** The application's own model, as far as the CLI knows: a deterministic TEST embedding. */
    class AppEmbeddings {
      readonly modelId = "test-app-model@1";
      async embedDocuments(texts: string[]): Promise<number[][]> {
        return texts.map((text) => [text.length % 7, 1, 2].map((x) => x / Math.hypot(text.length % 7, 1, 2)));
      }
      async embedQuery(text: string): Promise<number[]> {
        return (await this.embedDocuments([text]))[0]!;
      }
    }
    const appDir = join(chroma.dir, "app");
    const app = new Memory({ dataDir: appDir, chroma: { url: chroma.server.url }, prefix: "app", embeddings: new AppEmbeddings(), writes: "sync" });
    await app.add("A memory embedded by the application's model.", { userId: "fay" });
    await app.close();

    const run = async (args: string[]) => {
      const result = { code: -1, out: "", err: "" };
      result.code = await runCli([...args, "--data-dir", appDir, "--chroma-url", chroma.server.url, "--prefix", "app"], {
        out: (text) => void (result.out += text),
        err: (text) => void (result.err += text),
      });
      return result;
    };
    const list = await run(["list", "--user", "fay"]);
    expect(list).toMatchObject({ code: 0, err: "" });
    expect(list.out).toContain("A memory embedded by the application's model.");
    const search = await run(["search", "anything", "--user", "fay"]);
    expect(search.code).toBe(1);
    expect(search.err).toMatch(/EMBEDDING_FAILED.*"test-app-model@1", which the CLI cannot run/);
    const erase = await run(["erase", "--user", "fay", "--yes"]);
    expect(erase).toMatchObject({ code: 0, err: "" });
    expect(erase.out).toContain("1 memories from the store");
  });

  it("says that the LangGraph store of the prefix was not moved, and how to move it", async () => {
    const shopDir = join(chroma.dir, "shop");
    const hash = new HashEmbeddings();
    const store = new EngramStore({ dataDir: shopDir, chroma: { url: chroma.server.url }, prefix: "shop", index: { embeddings: hash } });
    await store.put(["gus", "prefs"], "seat", { text: "Aisle seats on long flights." });
    await store.close();
    const result = { code: -1, out: "", err: "" };
    result.code = await runCli(["reembed", "--model", "static", "--data-dir", shopDir, "--chroma-url", chroma.server.url, "--prefix", "shop"], {
      out: (text) => void (result.out += text),
      err: (text) => void (result.err += text),
    });
    expect(result.code).toBe(0);
    expect(result.out).toContain("Re-embedded 0 of 0 memories");
    expect(result.err).toContain(`note: the LangGraph store (EngramStore) of prefix "shop" was not moved: its 1 collections keep their vectors of "${embeddingsIdentity(hash)}"`);
    expect(result.err).toContain("open an EngramStore with the new model under a new prefix and put every item again");
  });
});
