import { describe, expect, it } from "@jest/globals";
import { Embeddings } from "@langchain/core/embeddings";
import { testMemories } from "../tests/memories.js";
import { warningsWithCode } from "../tests/warnings.js";

const memories = testMemories();

/** The suite's real local model behind a switch: held (a gate), failing, or passing through. */
class SwitchedEmbeddings extends Embeddings {
  /**
   * The wrapped model's identity: its vectors are that model's, so a folder or prefix it wrote
   * must open with the plain model too (without this, the class name would name a model of its own
   * and the model guard would refuse the mix with EMBEDDINGS_MISMATCH).
   */
  readonly modelId = memories.embeddings.modelId;
  mode: "pass" | "fail" = "pass";
  gate: Promise<void> = Promise.resolve();
  readonly embedded: string[] = [];
  /** Texts of each model call. */
  readonly calls: string[][] = [];
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    await this.gate;
    if (this.mode === "fail") throw new Error("model unavailable");
    this.embedded.push(...texts);
    this.calls.push([...texts]);
    return memories.embeddings.embedDocuments(texts);
  }
  async embedQuery(text: string): Promise<number[]> {
    return (await this.embedDocuments([text]))[0]!;
  }
}

describe('Memory with writes: "background"', () => {
  it("returns before the store has the write, yet this process reads its own writes at once", async () => {
    const m = memories.open("bg", { writes: "background" });
    const added = await m.add("Alice keeps bees on her roof in Lyon", { userId: "alice" });
    expect(added.pending).toBe(true);
    const id = added.results[0]!.id;
    // No flush: search, get and history each see the write.
    const [top] = await m.search("Who keeps bees?", { userId: "alice" });
    expect(top?.id).toBe(id);
    expect((await m.get(id, { userId: "alice" }))?.content).toBe("Alice keeps bees on her roof in Lyon");
    await m.update(id, "Alice keeps bees on her roof in Lyon, three hives", { userId: "alice" });
    expect((await m.history(id, { userId: "alice" })).map((entry) => entry.event)).toEqual(["ADD", "UPDATE"]);
    await m.close();

    // close() let the drain land: a second instance on another folder, reading the store only, sees it.
    const other = memories.open("other");
    const all = await other.getAll({ userId: "alice" });
    expect(all.map((record) => record.content)).toEqual(["Alice keeps bees on her roof in Lyon, three hives"]);
    await other.close();
  });

  it("deleteAll right after a burst of adds leaves nothing of the user and keeps the others", async () => {
    const m = memories.open("burst", { writes: "background" });
    await m.add("Bob plays the cello", { userId: "bob" });
    const adds = Array.from({ length: 8 }, (_, i) => m.add(`Carol note number ${i}`, { userId: "carol" }));
    await Promise.all(adds);
    const removed = await m.deleteAll({ userId: "carol" });
    expect(removed.deleted + removed.pending).toBeGreaterThanOrEqual(8);
    await m.flush();
    expect(await m.getAll({ userId: "carol" })).toEqual([]);
    expect(await m.search("note number", { userId: "carol" })).toEqual([]);
    expect((await m.getAll({ userId: "bob" })).map((record) => record.content)).toEqual(["Bob plays the cello"]);
    await m.close();
  });

  it("returns from add before the model embeds the text: the drain embeds it, and search waits for that", async () => {
    const embeddings = new SwitchedEmbeddings();
    let release!: () => void;
    embeddings.gate = new Promise<void>((resolve) => (release = resolve));
    const m = memories.open("deferred", { writes: "background", embeddings });
    const added = await m.add("Dora grows chillies on her balcony", { userId: "dora" });
    // The model is held: add returned anyway, with nothing embedded.
    expect(added.pending).toBe(true);
    expect(embeddings.embedded).toEqual([]);
    const searching = m.search("What does Dora grow?", { userId: "dora", limit: 1 });
    release();
    const [top] = await searching;
    expect(top?.content).toBe("Dora grows chillies on her balcony");
    // Embedded once, by the drain, then the query: the text was not embedded twice.
    expect(embeddings.embedded.filter((text) => text === "Dora grows chillies on her balcony")).toHaveLength(1);
  });

  it("reuses the vector of a message just recalled: add embeds nothing new", async () => {
    const embeddings = new SwitchedEmbeddings();
    const m = memories.open("cached", { writes: "background", embeddings });
    await m.search("I am allergic to peanuts", { userId: "erin" });
    await m.add("I am allergic to peanuts", { userId: "erin" });
    await m.flush();
    expect(embeddings.embedded).toEqual(["I am allergic to peanuts"]);
    expect((await m.search("food allergy", { userId: "erin", limit: 1 }))[0]?.content).toBe("I am allergic to peanuts");
  });

  it("keeps a write the model cannot embed yet, says so, and stores it once the model is back, even after a restart", async () => {
    const warnings = warningsWithCode("ENGRAM_EMBEDDING_FAILED");
    try {
      const embeddings = new SwitchedEmbeddings();
      embeddings.mode = "fail";
      const first = memories.open("model-down", { writes: "background", embeddings, prefix: "model-down" });
      const added = await first.add("Finn's passport expires in March", { userId: "finn" });
      expect(added.pending).toBe(true);
      // flush() reports the failure with its code; the write stays queued, not dropped.
      await expect(first.flush()).rejects.toMatchObject({ code: "EMBEDDING_FAILED" });
      await first.close();
      expect(warnings.seen.length).toBeGreaterThanOrEqual(1);
      expect(warnings.seen[0]).toContain("stay queued");

      // The same data folder, with a working model: the queued write reaches the store.
      const restarted = memories.open("model-down", { writes: "background", prefix: "model-down" });
      expect(await restarted.flush()).toMatchObject({ pending: 0 });
      const [top] = await restarted.search("When does the passport expire?", { userId: "finn", limit: 1 });
      expect(top?.content).toBe("Finn's passport expires in March");
      expect((await restarted.history(top!.id, { userId: "finn" })).map((entry) => entry.event)).toEqual(["ADD"]);
    } finally {
      warnings.stop();
    }
  });

  it("drains the writes of one turn together: an exchange and its summary, added back to back, take one model call and reach the store", async () => {
    const embeddings = new SwitchedEmbeddings();
    const m = memories.open("one-batch", { embeddings });
    await m.add(
      [
        { role: "user", content: "I adopted a greyhound called Pip" },
        { role: "assistant", content: "Congratulations on adopting Pip!" },
      ],
      { userId: "gus", threadId: "t1" },
    );
    await m.add("Gus adopted a greyhound named Pip.", { userId: "gus", kind: "summary" });
    await m.close();
    expect(embeddings.calls).toEqual([["I adopted a greyhound called Pip", "Congratulations on adopting Pip!", "Gus adopted a greyhound named Pip."]]);
    const reader = memories.open("one-batch-reader");
    expect((await reader.getAll({ userId: "gus" })).map((record) => record.content).sort()).toEqual([
      "Congratulations on adopting Pip!",
      "Gus adopted a greyhound named Pip.",
      "I adopted a greyhound called Pip",
    ]);
  });
});
