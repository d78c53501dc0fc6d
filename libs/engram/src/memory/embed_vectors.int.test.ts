import { describe, expect, it } from "@jest/globals";
import { Embeddings } from "@langchain/core/embeddings";
import { join } from "node:path";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { testMemories } from "../tests/memories.js";
import { codeOf } from "../tests/runs.js";
import { warningsWithCode } from "../tests/warnings.js";
import { reembed } from "./reembed.js";

const memories = testMemories();

/** What a misbehaving model answers for `texts` instead of their vectors. */
type Answer = (texts: string[], good: number[][]) => unknown;

/**
 * A user's own model (a deterministic hash of words, 16 dimensions) that answers with `answer`
 * while it is set: the misbehaviours met in practice (a proxy, a float overflow, a client that
 * returns typed arrays or drops a text of a batch).
 */
class UserEmbeddings extends Embeddings {
  answer?: Answer;
  private readonly model: HashEmbeddings;
  constructor(
    dimensions = 16,
    readonly modelId = "users-own-model@1",
  ) {
    super({});
    this.model = new HashEmbeddings(dimensions);
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    const good = await this.model.embedDocuments(texts);
    return (this.answer ? this.answer(texts, good) : good) as number[][];
  }
  async embedQuery(text: string): Promise<number[]> {
    return (await this.embedDocuments([text]))[0]!;
  }
}


/** Each misbehaviour, and its code (a size other than the folder's is another model's). */
const misbehaviours: Array<[string, Answer, string?]> = [
  ["NaN in a vector", (_texts, good) => good.map((v) => [Number.NaN, ...v.slice(1)])],
  ["Infinity in a vector", (_texts, good) => good.map((v) => [Number.POSITIVE_INFINITY, ...v.slice(1)])],
  ["all-zero vectors", (_texts, good) => good.map((v) => v.map(() => 0))],
  ["empty vectors", (texts) => texts.map(() => [])],
  ["numbers as strings", (_texts, good) => good.map((v) => v.map(String))],
  ["an object instead of a list", () => ({ length: 1 })],
  ["one vector nested in a list", (_texts, good) => [good]],
  ["a vector of another size", (_texts, good) => good.map((v) => [...v, 0.5]), "EMBEDDINGS_MISMATCH"],
];

describe("a user's embedding model that returns something other than vectors", () => {
  it.each(misbehaviours)("%s: refused before anything is written; a background write stays queued and is stored once the model answers", async (name, answer, code = "EMBEDDING_FAILED") => {
    const model = new UserEmbeddings();
    const dataDir = `bad-${misbehaviours.findIndex(([other]) => other === name)}`;
    const sync = memories.open(dataDir, { embeddings: model, writes: "sync", prefix: "v" + dataDir.slice(4) });
    // A good first vector: the model's size is known, as in an application running for a while.
    await sync.add("Alice keeps bees in Lyon", { userId: "alice" });
    model.answer = answer;
    expect(await codeOf(sync.add("Alice moved to Porto", { userId: "alice" }))).toBe(code);
    expect(await codeOf(sync.search("Where does Alice live?", { userId: "alice" }))).toBe(code);
    expect((await sync.getAll({ userId: "alice" })).map((r) => r.content)).toEqual(["Alice keeps bees in Lyon"]);
    await sync.close();

    const background = memories.open(dataDir, { embeddings: model, prefix: "v" + dataDir.slice(4) });
    const warnings = warningsWithCode("ENGRAM_EMBEDDING_FAILED");
    try {
      const added = await background.add("Bob plays the cello", { userId: "bob" });
      expect(added.pending).toBe(true);
      expect(await codeOf(background.flush())).toBe(code);
      // Kept: the user reads it from the queue, and it is stored, with a good vector, once the model answers.
      expect((await background.getAll({ userId: "bob" })).map((r) => r.content)).toEqual(["Bob plays the cello"]);
      model.answer = undefined;
      await background.flush();
      const [hit] = await background.search("Who plays the cello?", { userId: "bob" });
      expect(hit?.content).toBe("Bob plays the cello");
      expect(Number.isFinite(hit!.score)).toBe(true);
    } finally {
      warnings.stop();
    }
    await background.close();
    // Stored: another Memory on the server, with nothing queued, finds it.
    const reader = memories.open(`${dataDir}-reader`, { embeddings: new UserEmbeddings(), prefix: "v" + dataDir.slice(4) });
    expect((await reader.search("cello", { userId: "bob" }))[0]?.content).toBe("Bob plays the cello");
  });

  it("takes vectors given as Float32Array", async () => {
    const model = new UserEmbeddings();
    model.answer = (_texts, good) => good.map((v) => Float32Array.from(v));
    for (const writes of ["sync", "background"] as const) {
      const memory = memories.open(`f32-${writes}`, { embeddings: model, writes, prefix: `f32${writes}` });
      await memory.add("Carol bakes sourdough bread", { userId: "carol" });
      await memory.flush();
      expect((await memory.search("Who bakes bread?", { userId: "carol" }))[0]?.content).toBe("Carol bakes sourdough bread");
      await memory.close();
    }
  });
});

describe("a model that keeps its id and changes its vector size between runs of a folder", () => {
  it("is refused with EMBEDDINGS_MISMATCH; a background write stays queued, then stored by the folder's model", async () => {
    const dataDir = join(memories.chroma.dir, "resized");
    const chroma = { url: memories.chroma.server.url };
    const first = memories.open("resized", { embeddings: new UserEmbeddings(16), writes: "sync", prefix: "resized" });
    await first.add("Dana grows tomatoes on her balcony", { userId: "dana" });
    await first.close();

    // The next release of the user's model gives 24 dimensions under the same modelId.
    const resized = memories.open("resized", { embeddings: new UserEmbeddings(24), prefix: "resized" });
    const warnings = warningsWithCode("ENGRAM_EMBEDDING_FAILED");
    try {
      expect(await codeOf(resized.search("What does Dana grow?", { userId: "dana" }))).toBe("EMBEDDINGS_MISMATCH");
      const added = await resized.add("Dana bought a greenhouse", { userId: "dana" });
      expect(added.pending).toBe(true);
      expect(await codeOf(resized.flush())).toBe("EMBEDDINGS_MISMATCH");
    } finally {
      warnings.stop();
    }
    await resized.close();

    // Kept, not dropped: the folder's own model stores it.
    const again = memories.open("resized", { embeddings: new UserEmbeddings(16), prefix: "resized" });
    await again.flush();
    expect((await again.getAll({ userId: "dana" })).map((r) => r.content).sort()).toEqual(["Dana bought a greenhouse", "Dana grows tomatoes on her balcony"]);
    await again.close();

    // As the error says: the new model under its own id, and the folder moved to it.
    await reembed({ dataDir, chroma, prefix: "resized", embeddings: new UserEmbeddings(24, "users-own-model@2") });
    const moved = memories.open("resized", { embeddings: new UserEmbeddings(24, "users-own-model@2"), writes: "sync", prefix: "resized" });
    await moved.add("Dana sold her tomatoes at the market", { userId: "dana" });
    expect((await moved.search("sold at the market", { userId: "dana" }))[0]?.content).toBe("Dana sold her tomatoes at the market");
  });
});

describe("two data folders on one Chroma server, one model id, two vector sizes", () => {
  it("the second folder's background write is kept queued (EMBEDDINGS_MISMATCH), not dropped, when the server's collection has the other size", async () => {
    const first = memories.open("sized-a", { embeddings: new UserEmbeddings(16), writes: "sync", prefix: "sized" });
    await first.add("Farid repairs old radios", { userId: "farid" });
    // Another application, its own folder (its own size record), the same server and prefix.
    const second = memories.open("sized-b", { embeddings: new UserEmbeddings(24), prefix: "sized" });
    const warnings = warningsWithCode("ENGRAM_WRITE_REFUSED");
    try {
      expect((await second.add("Farid opened a shop in Tunis", { userId: "farid" })).pending).toBe(true);
      expect(await codeOf(second.flush())).toBe("EMBEDDINGS_MISMATCH");
      expect(warnings.seen).toEqual([]);
    } finally {
      warnings.stop();
    }
    await second.close();
    // Kept in the second folder's outbox (its reads show it), not in the store, not dropped.
    const reopened = memories.open("sized-b", { embeddings: new UserEmbeddings(24), prefix: "sized" });
    expect((await reopened.getAll({ userId: "farid" })).map((r) => r.content)).toContain("Farid opened a shop in Tunis");
    expect((await first.getAll({ userId: "farid" })).map((r) => r.content)).toEqual(["Farid repairs old radios"]);
  });
});

describe("engram reembed towards a model that answers NaN", () => {
  it("fails with EMBEDDING_FAILED instead of copying NaN vectors; run again with a working model, it moves the folder", async () => {
    const dataDir = join(memories.chroma.dir, "reembed-nan");
    const chroma = { url: memories.chroma.server.url };
    const first = memories.open("reembed-nan", { embeddings: new UserEmbeddings(16), writes: "sync", prefix: "rnan" });
    await first.add("Gita teaches chess on Sundays", { userId: "gita" });
    await first.close();
    const broken = new UserEmbeddings(16, "users-own-model@2");
    broken.answer = (_texts, good) => good.map((v) => v.map(() => Number.NaN));
    expect(await codeOf(reembed({ dataDir, chroma, prefix: "rnan", embeddings: broken }))).toBe("EMBEDDING_FAILED");
    // It resumes with the model fixed.
    const moved = await reembed({ dataDir, chroma, prefix: "rnan", embeddings: new UserEmbeddings(16, "users-own-model@2") });
    expect(moved.to).toBe("users-own-model@2");
    const memory = memories.open("reembed-nan", { embeddings: new UserEmbeddings(16, "users-own-model@2"), prefix: "rnan" });
    expect((await memory.search("chess", { userId: "gita" }))[0]?.content).toBe("Gita teaches chess on Sundays");
  });
});

describe("a model that refuses one text of a user's queued writes", () => {
  it("leaves the user's searches working: the refused text is found by its words, the others by meaning too", async () => {
    const model = new UserEmbeddings();
    const refuse = (texts: string[], good: number[][]) => good.map((v, i) => (texts[i]!.includes("quarantine") ? v.map(() => Number.NaN) : v));
    const memory = memories.open("refused-one", { embeddings: model, prefix: "rone" });
    await memory.add("Hana keeps bees on the roof", { userId: "hana" });
    await memory.flush();
    model.answer = refuse;
    const warnings = warningsWithCode("ENGRAM_EMBEDDING_FAILED");
    try {
      expect((await memory.add("Hana's quarantine ended on Friday", { userId: "hana" })).pending).toBe(true);
      expect((await memory.add("Hana adopted a cat called Miso", { userId: "hana" })).pending).toBe(true);
      // Queued behind the refused text, still read: by meaning and words, and the refused one by its words.
      expect((await memory.search("Hana adopted a cat called Miso", { userId: "hana" }))[0]?.content).toBe("Hana adopted a cat called Miso");
      expect((await memory.search("What ended on Friday?", { userId: "hana" }))[0]?.content).toBe("Hana's quarantine ended on Friday");
      expect(await codeOf(memory.flush())).toBe("EMBEDDING_FAILED");
      // Nothing lost: once the model takes the text, the queue drains.
      model.answer = undefined;
      await memory.flush();
      expect((await memory.getAll({ userId: "hana" })).map((r) => r.content).sort()).toEqual([
        "Hana adopted a cat called Miso",
        "Hana keeps bees on the roof",
        "Hana's quarantine ended on Friday",
      ]);
    } finally {
      warnings.stop();
    }
  });
});
