import { createHash } from "node:crypto";
import { Embeddings } from "@langchain/core/embeddings";

/**
 * A deterministic TEST embedding (not a model): each word of the text is hashed to one of `dims`
 * directions with a sign, and the sum is normalized. Texts sharing words are near, others are not;
 * a text with no word (emoji, punctuation) maps to a fixed direction. Used where a test needs
 * thousands of embeddings quickly and exactly reproducibly (the fuzz test's long run, the peers of
 * the cross-process tests); the real local model is used wherever meaning matters.
 */
export class HashEmbeddings extends Embeddings {
  constructor(private readonly dims = 64) {
    super({});
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.vector(text));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.vector(text);
  }

  private vector(text: string): number[] {
    const v = new Array<number>(this.dims).fill(0);
    v[0] = 0.05;
    for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
      const digest = createHash("sha1").update(word).digest();
      const at = digest.readUInt32BE(0) % this.dims;
      v[at]! += digest[4]! & 1 ? 1 : -1;
    }
    const norm = Math.hypot(...v) || 1;
    return v.map((x) => x / norm);
  }
}
