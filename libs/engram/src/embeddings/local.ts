import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { EngramError } from "../core/errors.js";
import { LEGACY_DEFAULT_MODEL_ID } from "./identity.js";
import { EmbeddingWorkerPool } from "./worker_pool.js";
import { describeValue } from "../core/describe.js";

/** Options for {@link LocalEmbeddings}. */
export interface LocalEmbeddingsOptions extends EmbeddingsParams {
  /**
   * Texts per request to a worker. A batch is split into requests of this size, and a query
   * waits at most one of them when every worker is busy (with `threads: 1`).
   * @default 16
   */
  batchSize?: number;
  /**
   * Worker threads running the model, each with its own copy (about 135 MB). With two or more,
   * background batches use all but one, so a query never waits behind them.
   * @default 2
   */
  threads?: number;
  /**
   * Milliseconds a worker stays loaded with nothing to do before it stops (it never keeps the
   * process alive meanwhile). The next call loads the model again (one to two seconds).
   * @default 30_000
   */
  idleTimeoutMs?: number;
}

/**
 * The model and the version of its weights, recorded in a data folder (embeddings/identity.ts).
 * The default before folders recorded their model, so an unmarked folder is taken to hold its vectors.
 */
const MODEL_ID = LEGACY_DEFAULT_MODEL_ID;

const WORKER_URL = new URL("./local_worker.mjs", import.meta.url);

/**
 * One pool per configuration and process, shared by every instance: each worker holds its own
 * copy of the weights, so instances should not each start their own.
 */
const pools = new Map<string, { pool: EmbeddingWorkerPool; users: number }>();

/**
 * Google's Universal Sentence Encoder Lite (512 dimensions, Apache-2.0), whose weights ship
 * inside npm, run with TensorFlow.js on WASM. Offline, deterministic, unit-norm vectors.
 *
 * The model runs in worker threads (docs/embeddings.md): an embedding (tens of ms on two cores)
 * never blocks the caller's thread, single texts (queries) go ahead of queued batches, and the
 * WASM glue's process-wide error handlers stay inside the worker. Idle workers never keep the
 * process alive; `close()` stops them at once.
 */
export class LocalEmbeddings extends Embeddings {
  static lc_name(): string {
    return "LocalEmbeddings";
  }

  /** The model and its weights' version: what a data folder records (docs/embeddings.md). */
  readonly modelId = MODEL_ID;

  /** Vector size of this model. */
  readonly dimensions = 512;

  private readonly batchSize: number;
  private readonly poolKey: string;
  private readonly threads: number;
  private readonly idleTimeoutMs: number;
  private pool?: EmbeddingWorkerPool;

  constructor(options: LocalEmbeddingsOptions = {}) {
    super(options);
    this.batchSize = options.batchSize ?? 16;
    this.threads = options.threads ?? 2;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new EngramError("INVALID_OPTIONS", `batchSize must be a positive integer, got ${describeValue(options.batchSize)}.`);
    }
    if (!Number.isInteger(this.threads) || this.threads < 1) {
      throw new EngramError("INVALID_OPTIONS", `threads must be a positive integer, got ${describeValue(options.threads)}.`);
    }
    if (typeof this.idleTimeoutMs !== "number" || !(this.idleTimeoutMs >= 0)) {
      throw new EngramError("INVALID_OPTIONS", `idleTimeoutMs must be a non-negative number, got ${describeValue(options.idleTimeoutMs)}.`);
    }
    this.poolKey = `${this.threads}:${this.idleTimeoutMs}`;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const pool = this.acquire();
    // One text is what a turn waits on (a search); more are background work (a drain, an import).
    const priority = texts.length === 1 ? "query" : "batch";
    const requests: Array<Promise<number[][]>> = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      requests.push(pool.run(texts.slice(start, start + this.batchSize), priority));
    }
    // Every request is awaited, so a failed one never leaves the others' rejections unhandled.
    const settled = await Promise.allSettled(requests);
    const failure = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failure) throw failure.reason;
    return settled.flatMap((result) => (result as PromiseFulfilledResult<number[][]>).value);
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.acquire().run([text], "query");
    return vector ?? [];
  }

  /**
   * Lets go of the worker threads: they stop once no open instance with the same options uses
   * them. Optional (idle workers stop by themselves and never keep the process alive). A later
   * call starts them again.
   */
  async close(): Promise<void> {
    if (!this.pool) return;
    this.pool = undefined;
    const entry = pools.get(this.poolKey);
    if (!entry) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    pools.delete(this.poolKey);
    await entry.pool.close();
  }

  private acquire(): EmbeddingWorkerPool {
    if (this.pool) return this.pool;
    let entry = pools.get(this.poolKey);
    if (!entry) {
      const pool = new EmbeddingWorkerPool({
        url: WORKER_URL,
        threads: this.threads,
        idleTimeoutMs: this.idleTimeoutMs,
        name: "the local embedding model (Universal Sentence Encoder Lite)",
      });
      entry = { pool, users: 0 };
      pools.set(this.poolKey, entry);
    }
    entry.users += 1;
    this.pool = entry.pool;
    return entry.pool;
  }
}
