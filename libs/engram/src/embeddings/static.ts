import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { setImmediate as nextTurn } from "node:timers/promises";
import { EngramError } from "../core/errors.js";
import { float16Table } from "./float16.js";
import { rowSums, type RowSums } from "./static_mean.js";
import { DEFAULT_STATIC_MODEL_PATH, loadStaticModel, type StaticModel } from "./static_model.js";
import { SentencePieceTokenizer } from "./tokenizer.js";

/** Id of the table shipped in the package; bump it whenever the build changes the table. */
export const STATIC_MODEL_ID = "engram-static-use-lite@3";

/** Options for {@link StaticEmbeddings}. */
export interface StaticEmbeddingsOptions extends EmbeddingsParams {
  /**
   * A model file made by the package's `scripts/build_static_model.ts`.
   * @default the table shipped in the package (`models/static-use-lite.bin`)
   */
  modelPath?: string;
  /**
   * The id the file must carry; loading another file refuses with `EMBEDDING_FAILED`.
   * @default "engram-static-use-lite@3"
   */
  modelId?: string;
}

/** Texts encoded between two yields to the event loop: a bulk import must not hold it for seconds. */
const TEXTS_PER_TURN = 256;

interface Encoder {
  tokenizer: SentencePieceTokenizer;
  model: StaticModel;
  halves: Float32Array;
  /**
   * The weighted sum, over the table's rows as float32 (the same values as `halves` of the float16
   * bits), each decoded into `sums.rows` the first time a text uses its piece: a mean then streams
   * one contiguous row per piece instead of a lookup per component. Untouched rows are never
   * written, so the memory behind them is not used (a text uses a few thousand of the 8,000 pieces).
   */
  sums: RowSums;
  /** 1 for a piece whose row is decoded in `sums.rows`. */
  decoded: Uint8Array;
}

/** One tokenizer per loaded table (building it takes a few milliseconds). */
const encoders = new WeakMap<StaticModel, Encoder>();

/**
 * The default embeddings: a static model distilled from Universal Sentence Encoder Lite (512
 * dimensions). Each of USE-Lite's 8,000 SentencePiece pieces was embedded once by USE-Lite itself;
 * a text's vector is the SIF-weighted mean of its pieces' vectors (Model2Vec's idea), so encoding
 * is a table lookup: about 0.1 ms per sentence instead of tens of milliseconds, with no TF.js.
 * Offline, deterministic, unit-norm. The file (8 MB) loads lazily on first use, once per process.
 *
 * It reads words, not word order: "dog bites man" and "man bites dog" get the same vector. Engram's
 * ranker pairs it with BM25; {@link LocalEmbeddings} (USE-Lite itself) is the heavier opt-in.
 */
export class StaticEmbeddings extends Embeddings {
  static lc_name(): string {
    return "StaticEmbeddings";
  }

  /** Names the vectors this model writes (a folder remembers it). */
  readonly modelId: string;

  /** Vector size of this model. */
  readonly dimensions = 512;

  private readonly modelPath: string;
  private encoder: Promise<Encoder> | undefined;

  constructor(options: StaticEmbeddingsOptions = {}) {
    super(options);
    this.modelPath = options.modelPath ?? DEFAULT_STATIC_MODEL_PATH;
    this.modelId = options.modelId ?? STATIC_MODEL_ID;
    if (typeof this.modelPath !== "string" || this.modelPath.length === 0) {
      throw new EngramError("INVALID_OPTIONS", "modelPath must be a non-empty string.");
    }
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const encoder = await this.load();
    const vectors: number[][] = [];
    for (let i = 0; i < texts.length; i += 1) {
      if (i > 0 && i % TEXTS_PER_TURN === 0) await nextTurn();
      vectors.push(encode(encoder, texts[i]!));
    }
    return vectors;
  }

  async embedQuery(text: string): Promise<number[]> {
    return encode(await this.load(), text);
  }

  private load(): Promise<Encoder> {
    this.encoder ??= loadStaticModel(this.modelPath).then(
      (model) => {
        if (model.header.modelId !== this.modelId) {
          throw new EngramError(
            "EMBEDDING_FAILED",
            `The static model at ${this.modelPath} is "${model.header.modelId}", expected "${this.modelId}".`,
          );
        }
        if (model.header.dimensions !== this.dimensions) {
          throw new EngramError("EMBEDDING_FAILED", `The static model at ${this.modelPath} has ${model.header.dimensions} dimensions, expected ${this.dimensions}.`);
        }
        let encoder = encoders.get(model);
        if (!encoder) {
          encoder = {
            model,
            tokenizer: new SentencePieceTokenizer(model.header.vocabulary),
            halves: float16Table(),
            sums: rowSums(model.header.vocabSize, model.header.dimensions),
            decoded: new Uint8Array(model.header.vocabSize),
          };
          encoders.set(model, encoder);
        }
        return encoder;
      },
      (error: unknown) => {
        this.encoder = undefined;
        throw error;
      },
    );
    return this.encoder;
  }
}

/** The SIF-weighted mean of the text's piece vectors, L2-normalized. */
function encode(encoder: Encoder, text: string): number[] {
  const { tokenizer, model, sums } = encoder;
  const dims = model.header.dimensions;
  const weights = model.weights;
  // The teacher's tokenizer splits on spaces only, and an empty text has no pieces.
  const normalized = text.replace(/\s+/g, " ").trim();
  const ids = tokenizer.encode(normalized.length > 0 ? normalized : ".");
  // Summed in float64 in the pieces' order: the same value whatever was encoded before.
  sums.clear();
  for (let i = 0; i < ids.length; i += 1) {
    const id = ids[i]!;
    if (encoder.decoded[id] === 0) decodeRow(encoder, id);
    sums.add(id, weights[id] ?? 0);
  }
  const sum = sums.sum;
  let norm = 0;
  for (let d = 0; d < dims; d += 1) norm += sum[d]! * sum[d]!;
  norm = Math.sqrt(norm);
  const vector = new Array<number>(dims);
  for (let d = 0; d < dims; d += 1) vector[d] = norm > 0 ? sum[d]! / norm : 0;
  return vector;
}

/** Decodes one piece's row of float16 bits into `sums.rows`. */
function decodeRow({ model, halves, sums, decoded }: Encoder, id: number): void {
  const dims = model.header.dimensions;
  const vectors = model.vectors;
  const rows = sums.rows;
  for (let d = id * dims, end = d + dims; d < end; d += 1) rows[d] = halves[vectors[d]!]!;
  decoded[id] = 1;
}
