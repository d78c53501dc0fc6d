import { describe, expect, it } from "@jest/globals";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isEngramError } from "../core/errors.js";
import { decodeFloat16, encodeFloat16, float16Table } from "./float16.js";
import { centerOf } from "./static_build.js";
import { STATIC_MODEL_ID, StaticEmbeddings } from "./static.js";
import { DEFAULT_STATIC_MODEL_PATH, decodeStaticModel, encodeStaticModel } from "./static_model.js";
import { rowSums } from "./static_mean.js";
import { SentencePieceTokenizer } from "./tokenizer.js";

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);

describe("StaticEmbeddings (the shipped table)", () => {
  const embeddings = new StaticEmbeddings();

  it("names its model and size before loading anything", () => {
    expect(embeddings.modelId).toBe(STATIC_MODEL_ID);
    expect(embeddings.dimensions).toBe(512);
  });

  it("is deterministic and unit-norm, one vector per text, empty texts included", async () => {
    const texts = ["I moved to Berlin last spring.", "", "   ", "I moved to Berlin last spring.", "tab\tseparated\nlines"];
    const vectors = await embeddings.embedDocuments(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const v of vectors) {
      expect(v).toHaveLength(512);
      expect(cosine(v, v)).toBeCloseTo(1, 6);
    }
    expect(vectors[3]).toEqual(vectors[0]);
    expect(await new StaticEmbeddings().embedQuery(texts[0]!)).toEqual(vectors[0]);
    // Whitespace is normalized as the teacher's tokenizer needs it.
    expect(vectors[4]).toEqual(await embeddings.embedQuery("tab separated lines"));
  });

  it("ranks a paraphrase above an unrelated sentence", async () => {
    const [query, paraphrase, unrelated] = await embeddings.embedDocuments([
      "What programming language does the user like for data science?",
      "User prefers Python for data analysis and machine learning",
      "The train to the airport leaves at seven in the morning",
    ]);
    expect(cosine(query!, paraphrase!)).toBeGreaterThan(cosine(query!, unrelated!) + 0.05);
  });

  it("gives exactly the weighted mean of the table's float16 rows, whatever was encoded before", async () => {
    const model = decodeStaticModel(await readFile(DEFAULT_STATIC_MODEL_PATH), DEFAULT_STATIC_MODEL_PATH);
    const tokenizer = new SentencePieceTokenizer(model.header.vocabulary);
    const halves = float16Table();
    const dims = model.header.dimensions;
    // The definition, read straight from the float16 bits, with the original tokenizer's reading.
    const reference = (text: string): number[] => {
      const normalized = text.replace(/\s+/g, " ").trim();
      const sum = new Float64Array(dims);
      for (const id of tokenizer.encodeWhole(normalized.length > 0 ? normalized : ".")) {
        for (let d = 0; d < dims; d += 1) sum[d]! += model.weights[id]! * halves[model.vectors[id * dims + d]!]!;
      }
      const norm = Math.sqrt(sum.reduce((total, x) => total + x * x, 0));
      return Array.from(sum, (x) => x / norm);
    };
    const texts = ["Caroline: I went to a LGBTQ support group yesterday", "Meet at 12:30 :) or 9:00", "émoji 😀 ok", "", "unbelievably unbelievable", "Caroline: I went to a LGBTQ support group yesterday"];
    const fresh = new StaticEmbeddings({ modelPath: DEFAULT_STATIC_MODEL_PATH });
    for (const [i, vector] of (await fresh.embedDocuments(texts)).entries()) {
      const expected = reference(texts[i]!);
      // Float64 sums in the same order: equal to the last bit.
      expect(vector).toEqual(expected);
    }
  });

  it("embeds a large batch with every vector in order", async () => {
    const texts = Array.from({ length: 600 }, (_, i) => `memory number ${i} about ${i % 2 ? "cats" : "trains"}`);
    const vectors = await embeddings.embedDocuments(texts);
    expect(vectors).toHaveLength(600);
    expect(vectors[599]).toEqual(await embeddings.embedQuery(texts[599]!));
    expect(vectors[598]).not.toEqual(vectors[599]);
  });
});

describe("rowSums (the mean's weighted sums)", () => {
  it("adds float32 rows into float64 sums the same to the last bit in WebAssembly and JavaScript", () => {
    const pieces = 50;
    const dims = 512;
    const fast = rowSums(pieces, dims);
    const plain = rowSums(pieces, dims, "js");
    // This Node has WebAssembly SIMD: the fast path is the one checked.
    expect([fast.kind, plain.kind]).toEqual(["wasm", "js"]);
    let seed = 7;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (let i = 0; i < pieces * dims; i += 1) fast.rows[i] = plain.rows[i] = random() * 0.2;
    const weights = Array.from({ length: pieces }, () => Math.fround(Math.abs(random()) * 3));
    for (const sums of [fast, plain]) {
      sums.clear();
      for (let k = 0; k < 200; k += 1) sums.add((k * 7) % pieces, weights[(k * 7) % pieces]!);
    }
    // The definition: each float32 widened, one multiply and one add per component, in order.
    const expected = new Float64Array(dims);
    for (let k = 0; k < 200; k += 1) {
      const id = (k * 7) % pieces;
      for (let d = 0; d < dims; d += 1) expected[d]! += weights[id]! * plain.rows[id * dims + d]!;
    }
    expect(Array.from(fast.sum)).toEqual(Array.from(expected));
    expect(Array.from(plain.sum)).toEqual(Array.from(expected));
    fast.clear();
    expect(fast.sum.every((x) => x === 0)).toBe(true);
  });
});

describe("StaticEmbeddings' model file", () => {
  it("refuses a missing file and a file of another model with EMBEDDING_FAILED, then recovers", async () => {
    const dir = await mkdtemp(join(tmpdir(), "engram-static-"));
    const path = join(dir, "model.bin");
    const missing = new StaticEmbeddings({ modelPath: path });
    await expect(missing.embedQuery("hello")).rejects.toMatchObject({ code: "EMBEDDING_FAILED" });

    const model = decodeStaticModel(await readFile(DEFAULT_STATIC_MODEL_PATH), DEFAULT_STATIC_MODEL_PATH);
    await writeFile(path, encodeStaticModel({ ...model, header: { ...model.header, modelId: "someone-else@1" } }));
    const error = await missing.embedQuery("hello").catch((e: unknown) => e);
    expect(isEngramError(error) && error.code === "EMBEDDING_FAILED" && /someone-else@1/.test(error.message)).toBe(true);

    const same = new StaticEmbeddings({ modelPath: path, modelId: "someone-else@1" });
    expect(await same.embedQuery("hello")).toEqual(await new StaticEmbeddings().embedQuery("hello"));
  });

  it("refuses a truncated file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "engram-static-"));
    const path = join(dir, "model.bin");
    await writeFile(path, (await readFile(DEFAULT_STATIC_MODEL_PATH)).subarray(0, 100_000));
    await expect(new StaticEmbeddings({ modelPath: path }).embedQuery("x")).rejects.toMatchObject({ code: "EMBEDDING_FAILED" });
  });

  it("rejects an empty model path in the constructor", () => {
    let error: unknown;
    try {
      new StaticEmbeddings({ modelPath: "" });
    } catch (caught) {
      error = caught;
    }
    expect(isEngramError(error) && error.code === "INVALID_OPTIONS").toBe(true);
  });
});

describe("the shipped table is centered", () => {
  it("has no expected sentence vector left, and unrelated sentences fall far apart", async () => {
    const model = decodeStaticModel(await readFile(DEFAULT_STATIC_MODEL_PATH), DEFAULT_STATIC_MODEL_PATH);
    const { dimensions } = model.header;
    const halves = float16Table();
    const vectors = new Float64Array(model.vectors.length);
    for (let i = 0; i < vectors.length; i += 1) vectors[i] = halves[model.vectors[i]!]!;
    // centerOf of a centered table is (about) zero: only float16 rounding is left of it.
    const residue = centerOf(vectors, model.weights, dimensions);
    const typical = Math.hypot(...Array.from(vectors.subarray(6 * dimensions, 7 * dimensions)));
    expect(Math.hypot(...residue) / typical).toBeLessThan(1e-3);
    // Before centering, any two sentences scored 0.77-0.91.
    const [a, b] = await new StaticEmbeddings().embedDocuments(["My cat knocked the plant off the shelf.", "The quarterly report is due on Friday."]);
    expect(cosine(a!, b!)).toBeLessThan(0.4);
  });

  it("centerOf is the Zipf-probability and SIF weighted mean of the piece vectors", () => {
    // Three real pieces after the six reserved ids; ranks 1, 2, 3 have probabilities 6/11, 3/11, 2/11.
    const weights = new Float32Array([0, 0, 0, 0, 0, 0, 1, 1, 2]);
    const vectors = new Float64Array(9 * 2);
    vectors.set([1, 0, 0, 1, 1, 1], 12);
    const shares = [6 / 11, 3 / 11, (2 / 11) * 2];
    const total = shares.reduce((s, x) => s + x, 0);
    const center = centerOf(vectors, weights, 2);
    expect(center[0]).toBeCloseTo((shares[0]! + shares[2]!) / total, 12);
    expect(center[1]).toBeCloseTo((shares[1]! + shares[2]!) / total, 12);
  });
});

describe("float16", () => {
  it("round-trips every half-precision value and rounds to the nearest", () => {
    for (let bits = 0; bits < 65_536; bits += 1) {
      const value = decodeFloat16(bits);
      if (Number.isNaN(value)) continue;
      expect(encodeFloat16(value)).toBe(bits);
    }
    expect(decodeFloat16(encodeFloat16(0.1))).toBeCloseTo(0.1, 3);
    expect(decodeFloat16(encodeFloat16(1 / 3))).toBe(0.333251953125);
    expect(decodeFloat16(encodeFloat16(1e-6))).toBeCloseTo(1e-6, 7);
  });
});
