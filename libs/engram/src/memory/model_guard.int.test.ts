import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { isEngramError } from "../core/errors.js";
import { embeddingsIdentity, LEGACY_DEFAULT_MODEL_ID } from "../embeddings/identity.js";
import { LocalEmbeddings } from "../embeddings/local.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { markerCollectionName, readStoreModel } from "../store/model_marker.js";
import { openDatabase, type SqliteDatabase } from "../state/sqlite/database.js";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Memory } from "./memory.js";

/** The model the folder's SQLite state records (the `embeddings` key of `engram_meta`). */
function readFolderModel(db: SqliteDatabase): string | undefined {
  const table = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'engram_meta'").get()!.n;
  return table === 0 ? undefined : db.prepare<[], { value: string }>("SELECT value FROM engram_meta WHERE key = 'embeddings'").get()?.value;
}


const useLite = new LocalEmbeddings();
const staticModel = new StaticEmbeddings();

function folderModel(dataDir: string): string | undefined {
  const db = openDatabase(join(dataDir, "engram.sqlite"));
  try {
    return readFolderModel(db);
  } finally {
    db.close();
  }
}

function outboxRows(dataDir: string): number {
  const db = openDatabase(join(dataDir, "engram.sqlite"));
  try {
    const table = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'outbox'").get()!.n;
    return table === 0 ? 0 : db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox").get()!.n;
  } finally {
    db.close();
  }
}

async function refusal(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected EMBEDDINGS_MISMATCH, the call succeeded");
}

describe("one model per data folder", () => {
  let chroma: TestChroma;
  let client: ChromaClient;
  beforeAll(async () => {
    chroma = await startTestChroma();
    client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
  });
  afterAll(async () => {
    await useLite.close();
    await chroma.stop();
  });

  it("names models by their modelId, else by class, model name and size", () => {
    expect(embeddingsIdentity(useLite)).toBe(LEGACY_DEFAULT_MODEL_ID);
    expect(embeddingsIdentity(staticModel)).toBe(staticModel.modelId);
    class OtherEmbeddings {
      model = "text-embedding-3-small";
      dimensions = 1536;
      embedDocuments = async (texts: string[]) => texts.map(() => [1]);
      embedQuery = async () => [1];
    }
    expect(embeddingsIdentity(new OtherEmbeddings())).toBe("OtherEmbeddings:text-embedding-3-small:1536d");
  });

  it("records the first model of a new folder and refuses another before anything is written", async () => {
    const dataDir = join(await tempDir(), "data");
    const first = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard1", embeddings: staticModel, writes: "sync" });
    await first.add("I moved to Lisbon in March.", { userId: "alice" });
    await first.close();
    expect(folderModel(dataDir)).toBe(staticModel.modelId);
    expect(await readStoreModel(client, "guard1")).toBe(staticModel.modelId);

    const other = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard1", embeddings: useLite });
    for (const call of [
      () => other.add("I also like jazz.", { userId: "alice" }),
      () => other.search("where do I live?", { userId: "alice" }),
      () => other.getAll({ userId: "alice" }),
    ]) {
      const error = await refusal(call);
      expect(isEngramError(error, "EMBEDDINGS_MISMATCH")).toBe(true);
      expect(error.message).toContain(staticModel.modelId);
      expect(error.message).toContain(LEGACY_DEFAULT_MODEL_ID);
      expect(error.message).toContain(`engram reembed --data-dir ${dataDir} --prefix guard1`);
    }
    await other.close();
    expect(outboxRows(dataDir)).toBe(0);
    expect(folderModel(dataDir)).toBe(staticModel.modelId);

    // The model that wrote it still opens it.
    const again = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard1", embeddings: new StaticEmbeddings() });
    expect((await again.search("where do I live?", { userId: "alice" }))[0]?.content).toBe("I moved to Lisbon in March.");
    await again.close();
  });

  it("the refusal names the command that moves the folder to this Memory's model, or the library's reembed() when the CLI cannot run it", async () => {
    const dataDir = join(await tempDir(), "data");
    const first = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard-cmd", embeddings: useLite, writes: "sync" });
    await first.add("I moved to Lisbon in March.", { userId: "alice" });
    await first.close();
    // `engram reembed` moves to USE-Lite (its default) unless told `--model static`.
    const toStatic = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard-cmd", embeddings: staticModel });
    const error = await refusal(() => toStatic.getAll({ userId: "alice" }));
    expect(isEngramError(error, "EMBEDDINGS_MISMATCH")).toBe(true);
    expect(error.message).toContain(`\`engram reembed --data-dir ${dataDir} --prefix guard-cmd --model static\``);
    await toStatic.close();
    const custom = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard-cmd", embeddings: new HashEmbeddings() });
    const other = await refusal(() => custom.getAll({ userId: "alice" }));
    expect(isEngramError(other, "EMBEDDINGS_MISMATCH")).toBe(true);
    expect(other.message).toContain("`reembed({ embeddings, ... })`");
    expect(other.message).not.toContain("engram reembed --data-dir");
    await custom.close();
  });

  it("refuses a new folder on a shared server whose collections another model wrote, even with background writes", async () => {
    const a = new Memory({ dataDir: join(await tempDir(), "a"), chroma: { url: chroma.server.url }, prefix: "guard2", embeddings: staticModel });
    await a.add("My sister Anna is a nurse.", { userId: "bob" });
    await a.flush();
    await a.close();

    const bDir = join(await tempDir(), "b");
    const b = new Memory({ dataDir: bDir, chroma: { url: chroma.server.url }, prefix: "guard2", embeddings: useLite });
    const error = await refusal(() => b.add("Anna works nights.", { userId: "bob" }));
    expect(isEngramError(error, "EMBEDDINGS_MISMATCH")).toBe(true);
    expect(error.message).toContain('collections of prefix "guard2"');
    await b.close();
    expect(outboxRows(bDir)).toBe(0);
    expect(await readStoreModel(client, "guard2")).toBe(staticModel.modelId);
  });

  it("adopts a given model for an unmarked folder with data, and takes one opened with the default model to hold the old default's vectors", async () => {
    const dataDir = join(await tempDir(), "legacy");
    const writer = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard3", embeddings: staticModel, writes: "sync" });
    await writer.add("The team ships every second Thursday.", { userId: "carol" });
    await writer.close();
    // What a folder written before markers existed looks like.
    const db = openDatabase(join(dataDir, "engram.sqlite"));
    db.exec("DROP TABLE engram_meta");
    db.close();
    await client.deleteCollection({ name: markerCollectionName("guard3") });

    const implicit = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard3" });
    const implicitModel = embeddingsIdentity((implicit as unknown as { config: { embedder: { embeddings: StaticEmbeddings } } }).config.embedder.embeddings);
    if (implicitModel === LEGACY_DEFAULT_MODEL_ID) {
      await implicit.getAll({ userId: "carol" });
    } else {
      expect(isEngramError(await refusal(() => implicit.getAll({ userId: "carol" })), "EMBEDDINGS_MISMATCH")).toBe(true);
    }
    await implicit.close();
    expect(folderModel(dataDir)).toBe(LEGACY_DEFAULT_MODEL_ID);

    // The same unmarked folder opened with a model given explicitly adopts it.
    const again = openDatabase(join(dataDir, "engram.sqlite"));
    again.exec("DROP TABLE engram_meta");
    again.close();
    await client.deleteCollection({ name: markerCollectionName("guard3") }).catch(() => undefined);
    const explicit = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard3", embeddings: staticModel });
    expect(await explicit.getAll({ userId: "carol" })).toHaveLength(1);
    await explicit.close();
    expect(folderModel(dataDir)).toBe(staticModel.modelId);
    expect(await readStoreModel(client, "guard3")).toBe(staticModel.modelId);
  });

  it("is claimed by its first write, not its first open: a look with one model, then another model writes", async () => {
    const dataDir = join(await tempDir(), "empty");
    const reader = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard5", embeddings: useLite });
    expect(await reader.search("anything there?", { userId: "erin" })).toEqual([]);
    await reader.close();
    expect(folderModel(dataDir)).toBeUndefined();
    expect(await readStoreModel(client, "guard5")).toBeUndefined();
    const writer = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard5", embeddings: staticModel, writes: "sync" });
    await writer.add("First words in this folder.", { userId: "erin" });
    await writer.close();
    expect(folderModel(dataDir)).toBe(staticModel.modelId);
    expect(await readStoreModel(client, "guard5")).toBe(staticModel.modelId);
    // Now it holds vectors: the first model is refused.
    const late = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard5", embeddings: useLite });
    expect(isEngramError(await refusal(() => late.getAll({ userId: "erin" })), "EMBEDDINGS_MISMATCH")).toBe(true);
    await late.close();
  });

  it("a Memory open on a folder no model claimed yet is refused once another model's first write claims it", async () => {
    const dataDir = join(await tempDir(), "open-both");
    const background = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard6", embeddings: useLite });
    const sync = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard6", embeddings: staticModel, writes: "sync" });
    // Both open the new folder before either writes.
    expect(await background.getAll({ userId: "fay" })).toEqual([]);
    expect(await sync.getAll({ userId: "fay" })).toEqual([]);
    await sync.add("I keep bees on the roof.", { userId: "fay" });
    for (const call of [
      () => background.add("My hives face south.", { userId: "fay" }),
      () => background.search("bees", { userId: "fay" }),
      () => background.update("any", "changed", { userId: "fay" }),
    ]) {
      expect(isEngramError(await refusal(call), "EMBEDDINGS_MISMATCH")).toBe(true);
    }
    await background.close();
    expect((await sync.getAll({ userId: "fay" })).map((record) => record.content)).toEqual(["I keep bees on the roof."]);
    await sync.close();
    expect(outboxRows(dataDir)).toBe(0);
  });

  it("stays claimed when its memories are all erased: another model is refused, the folder's model opens it", async () => {
    const dataDir = join(await tempDir(), "erased");
    const first = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard7", embeddings: staticModel, writes: "sync" });
    await first.add("Temporary note.", { userId: "gus" });
    await first.deleteAll({ userId: "gus" });
    await first.close();
    const other = new Memory({ dataDir, chroma: { url: chroma.server.url }, prefix: "guard7", embeddings: useLite });
    expect(isEngramError(await refusal(() => other.getAll({ userId: "gus" })), "EMBEDDINGS_MISMATCH")).toBe(true);
    await other.close();
    expect(folderModel(dataDir)).toBe(staticModel.modelId);
  });

  it("keeps the first model when two processes race to mark a new prefix", async () => {
    const { recordStoreModel } = await import("../store/model_marker.js");
    const [x, y] = await Promise.all([
      recordStoreModel(client, "guard4", "model-x", { replace: false }),
      recordStoreModel(client, "guard4", "model-y", { replace: false }),
    ]);
    expect(x).toBe(y);
    expect(await recordStoreModel(client, "guard4", "model-z", { replace: false })).toBe(x);
    expect(await recordStoreModel(client, "guard4", "model-z", { replace: true })).toBe("model-z");
  });
});
