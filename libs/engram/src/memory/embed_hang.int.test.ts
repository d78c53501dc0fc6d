import { describe, expect, it } from "@jest/globals";
import { Embeddings } from "@langchain/core/embeddings";
import { isEngramError } from "../core/errors.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { testMemories } from "../tests/memories.js";
import { codeOf } from "../tests/runs.js";
import { warningsWithCode } from "../tests/warnings.js";
import { Memory } from "./memory.js";

const memories = testMemories();

/**
 * A user's model behind a server that stops answering: while `hanging`, a call never settles
 * until `release()` (then it fails, as a socket closed at last would).
 */
class HangingEmbeddings extends Embeddings {
  readonly modelId = "hanging-model@1";
  hanging = true;
  private readonly held: Array<(error: Error) => void> = [];
  private readonly model = new HashEmbeddings(16);
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    if (this.hanging) await new Promise<void>((_, reject) => this.held.push(reject));
    return this.model.embedDocuments(texts);
  }
  async embedQuery(text: string): Promise<number[]> {
    return (await this.embedDocuments([text]))[0]!;
  }
  /** The abandoned calls end now, with a failure nobody waits for any more. */
  release(): number {
    const held = this.held.splice(0);
    for (const reject of held) reject(new Error("socket closed"));
    return held.length;
  }
}


describe("a user's embedding model that never answers", () => {
  it("fails the calls that wait on it with EMBEDDING_FAILED after embeddingTimeoutMs; flush() and close() return; the background write is kept", async () => {
    const model = new HangingEmbeddings();
    const options = { embeddings: model, prefix: "hang", embeddingTimeoutMs: 1_000 };
    const memory = memories.open("hang", options);
    const warnings = warningsWithCode("ENGRAM_EMBEDDING_FAILED");
    try {
      expect((await memory.add("Erin keeps a sailing boat in Brest", { userId: "erin" })).pending).toBe(true);
      expect(await codeOf(memory.search("Where is Erin's boat?", { userId: "erin" }))).toBe("EMBEDDING_FAILED");
      expect(await codeOf(memory.flush())).toBe("EMBEDDING_FAILED");
      await memory.close();
    } finally {
      warnings.stop();
    }
    // The abandoned calls fail late: nothing waits on them, nothing is written.
    expect(model.release()).toBeGreaterThan(0);

    const sync = memories.open("hang", { ...options, writes: "sync" });
    expect(await codeOf(sync.add("Erin sold the boat", { userId: "erin" }))).toBe("EMBEDDING_FAILED");
    await sync.close();
    model.release();

    // The acknowledged write was kept: once the model answers, it is stored; the refused one is not.
    model.hanging = false;
    const again = memories.open("hang", options);
    await again.flush();
    expect((await again.getAll({ userId: "erin" })).map((record) => record.content)).toEqual(["Erin keeps a sailing boat in Brest"]);
    expect((await again.search("sailing boat", { userId: "erin" }))[0]?.content).toBe("Erin keeps a sailing boat in Brest");
  });

  it("refuses an embeddingTimeoutMs that is not an integer from 0 to one hour", () => {
    for (const embeddingTimeoutMs of [-1, 1.5, Number.NaN, 3_600_001, "1000"]) {
      let code = "no error";
      try {
        new Memory({ embeddings: new HashEmbeddings(), embeddingTimeoutMs: embeddingTimeoutMs as number });
      } catch (error) {
        code = isEngramError(error) ? error.code : "other";
      }
      expect(code).toBe("INVALID_OPTIONS");
    }
  });
});
