import { describe, expect, it } from "@jest/globals";
import { Embeddings } from "@langchain/core/embeddings";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import type { MemoryRecord } from "../core/types.js";
import { SqliteState } from "../state/sqlite/index.js";
import { ChromaStore } from "../store/chroma_store.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { testMemories } from "../tests/memories.js";
import { codeOf } from "../tests/runs.js";
import { waitFor } from "../tests/wait.js";
import { warningsWithCode } from "../tests/warnings.js";
import { checkVectors, embeddingFailure } from "../embeddings/vectors.js";
import { Writer, type WriteOp } from "./writer.js";

/**
 * A text the user's embedding model refuses (a provider's content filter throwing for it, a text
 * it answers NaN for) while it answers every other: the drain used to stop at it, so every later
 * background write of that user waited behind it for as long as the model refused it. Now it is
 * held alone, as the store's refusals are: queued and retried, reported, the rest stored.
 */

const memories = testMemories();

/**
 * A user's model (a hash of words, 16 dimensions) that throws for texts with "FORBIDDEN" and
 * answers NaN for texts with "GARBLED", while `strict`; while `down`, it throws for every text.
 */
class PickyEmbeddings extends Embeddings {
  strict = true;
  down = false;
  /** Every text the model was asked for, in order. */
  readonly asked: string[] = [];
  private readonly model = new HashEmbeddings(16);
  readonly modelId = "picky-model@1";
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.asked.push(...texts);
    if (this.down) throw new Error("connect ECONNREFUSED");
    if (this.strict && texts.some((text) => text.includes("FORBIDDEN"))) throw new Error("content filter: this text is not allowed");
    const vectors = await this.model.embedDocuments(texts);
    return vectors.map((vector, i) => (this.strict && texts[i]!.includes("GARBLED") ? vector.map(() => Number.NaN) : vector));
  }
  async embedQuery(text: string): Promise<number[]> {
    return (await this.embedDocuments([text]))[0]!;
  }
}

const contents = async (memory: ReturnType<typeof memories.open>, userId: string): Promise<string[]> =>
  (await memory.getAll({ userId })).map((record) => record.content).sort();

describe("a background write whose text the user's model refuses", () => {
  it("is held alone: the user's later writes are stored, it stays queued and is stored once the model takes it", async () => {
    const model = new PickyEmbeddings();
    const memory = memories.open("picky", { embeddings: model, prefix: "picky" });
    // Reads the store only (another folder: no outbox of the first), to see what reached it.
    const readerModel = new PickyEmbeddings();
    readerModel.strict = false;
    const reader = memories.open("picky-reader", { embeddings: readerModel, prefix: "picky" });
    const warnings = warningsWithCode("ENGRAM_EMBEDDING_FAILED");
    try {
      await memory.add("Alice wrote something FORBIDDEN", { userId: "alice" });
      await memory.add("Alice keeps bees in Lyon", { userId: "alice" });
      await memory.add("Alice said a GARBLED thing", { userId: "alice" });
      await memory.add("Alice plays the cello", { userId: "alice" });
      await memory.add("Bob repairs radios", { userId: "bob" });
      // The refused texts stay queued: flush says so, after storing the rest.
      expect(await codeOf(memory.flush())).toBe("EMBEDDING_FAILED");
      expect(await contents(reader, "alice")).toEqual(["Alice keeps bees in Lyon", "Alice plays the cello"]);
      expect(await contents(reader, "bob")).toEqual(["Bob repairs radios"]);
      // Still the user's: read from the queue.
      expect(await contents(memory, "alice")).toEqual([
        "Alice keeps bees in Lyon",
        "Alice plays the cello",
        "Alice said a GARBLED thing",
        "Alice wrote something FORBIDDEN",
      ]);
      // A later add of the user is stored by its own background drain, past the held ones.
      await memory.add("Alice bought a kayak", { userId: "alice" });
      expect(await waitFor(async () => (await contents(reader, "alice")).includes("Alice bought a kayak"))).toBe(true);
      expect(warnings.seen.length).toBeGreaterThan(0);
      expect(warnings.seen.join("\n")).toContain("stay queued");

      model.strict = false;
      await memory.flush();
      expect(await contents(reader, "alice")).toEqual([
        "Alice bought a kayak",
        "Alice keeps bees in Lyon",
        "Alice plays the cello",
        "Alice said a GARBLED thing",
        "Alice wrote something FORBIDDEN",
      ]);
      // Stored once each, with a vector the search finds.
      expect((await reader.search("FORBIDDEN", { userId: "alice" }))[0]?.content).toBe("Alice wrote something FORBIDDEN");
      expect((await memory.history((await memory.getAll({ userId: "alice" })).find((r) => r.content.includes("FORBIDDEN"))!.id, { userId: "alice" })).map((entry) => entry.event)).toEqual(["ADD"]);
    } finally {
      warnings.stop();
    }
  });

  it("a model that fails every text (down) is asked for the group and one probe, not text by text; the writes stay queued", async () => {
    const model = new PickyEmbeddings();
    model.strict = false;
    const memory = memories.open("down", { embeddings: model, prefix: "down", writes: "sync" });
    await memory.add("Carol's first note", { userId: "carol" });
    await memory.close();
    const background = memories.open("down", { embeddings: model, prefix: "down" });
    const warnings = warningsWithCode("ENGRAM_EMBEDDING_FAILED");
    try {
      model.down = true;
      const texts = Array.from({ length: 40 }, (_, i) => `Carol's note number ${i}`);
      await background.addMany(texts.map((content) => ({ content })), { userId: "carol" });
      await background.close();
      const again = memories.open("down", { embeddings: model, prefix: "down" });
      model.asked.length = 0;
      expect(await codeOf(again.flush())).toBe("EMBEDDING_FAILED");
      // The 40 texts in one call, then one probe text: the model is down, nothing is held text by text.
      expect(model.asked.length).toBe(41);
      model.down = false;
      await again.flush();
      expect((await contents(again, "carol")).length).toBe(41);
    } finally {
      warnings.stop();
    }
  });
});

describe("the writer's order around a held write", () => {
  it("a later delete of a record whose upsert is held waits behind it: the record never comes back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "engram-held-"));
    const state = new SqliteState({ path: dir });
    const server = memories.chroma.server;
    const store = new ChromaStore({ client: async () => new ChromaClient({ host: server.host, port: server.port }), prefix: "held" });
    const model = new PickyEmbeddings();
    try {
      // As Memory's embedder gives them (memory/embedder.ts): a model's failure as EMBEDDING_FAILED.
      const embed = async (texts: string[]): Promise<number[][]> => {
        try {
          return checkVectors(await model.embedDocuments(texts), texts.length);
        } catch (cause) {
          throw embeddingFailure(cause);
        }
      };
      const writer = new Writer({ outbox: state.outbox<WriteOp>(), store, embed });
      const record = (id: string, content: string): MemoryRecord => ({
        id,
        scope: { userId: "dana" },
        kind: "episode",
        content,
        importance: 0.5,
        createdAt: 1,
        updatedAt: 1,
        lastAccessedAt: 1,
        source: {},
        metadata: {},
      });
      await writer.enqueue("dana", [
        { op: "upsert", record: record("x", "Dana said something FORBIDDEN"), history: null },
        { op: "upsert", record: record("y", "Dana grows tomatoes"), history: null },
        { op: "delete", id: "x", history: null },
        { op: "delete", id: "z", history: null },
      ]);
      const first = await writer.drain("dana");
      expect(first.error).toBeUndefined();
      expect((first.held ?? []).map((write) => write.id)).toEqual(["x", "x"]);
      expect((await store.get("dana", ["x", "y"])).map((hit) => hit.record.id)).toEqual(["y"]);
      expect(await writer.pendingCount("dana")).toBe(2);
      // A drain again while the model still refuses: nothing lands, nothing is lost.
      expect((await writer.drain("dana")).applied).toBe(0);

      model.strict = false;
      const second = await writer.drain("dana");
      expect(second.applied).toBe(2);
      expect(await writer.pendingCount("dana")).toBe(0);
      // The upsert, then the delete: x is gone (applied the other way round, it would be back).
      expect((await store.get("dana", ["x", "y"])).map((hit) => hit.record.id)).toEqual(["y"]);
    } finally {
      await state.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
