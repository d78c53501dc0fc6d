import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { EngramError } from "../core/errors.js";
import { LEGACY_DEFAULT_MODEL_ID } from "./identity.js";
import { EmbeddingWorkerPool } from "./worker_pool.js";
import { describeValue } from "../core/describe.js";

/**
 * What runs the model: ONNX Runtime (`onnxruntime-node`, native kernels) or TensorFlow.js on WASM.
 * Both read the same weights and give the same vectors (within float32 rounding), so a data folder
 * written by one is read by the other.
 */
export type LocalRuntime = "onnx" | "tfjs";

/** Options for {@link LocalEmbeddings}. */
export interface LocalEmbeddingsOptions extends EmbeddingsParams {
  /**
   * `"auto"` runs the model on ONNX Runtime when the optional dependency `onnxruntime-node` is
   * installed with a binary for this platform (about 6 times faster), on TF.js otherwise.
   * Where ONNX Runtime is installed but cannot load (its binaries are built for glibc: Alpine's
   * musl fails), `"auto"` runs TF.js in the same worker. `"onnx"` or `"tfjs"` asks for one;
   * `"onnx"` without a working `onnxruntime-node` fails every embedding with `EMBEDDING_FAILED`.
   * @default "auto"
   */
  runtime?: LocalRuntime | "auto";
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

const WORKER_URLS: Record<LocalRuntime, URL> = {
  onnx: new URL("./local_onnx_worker.mjs", import.meta.url),
  tfjs: new URL("./local_worker.mjs", import.meta.url),
};

const RUNTIME_NAMES: Record<LocalRuntime, string> = { onnx: "ONNX Runtime", tfjs: "TensorFlow.js" };

let onnxInstalled: boolean | undefined;

/**
 * Whether `onnxruntime-node` is installed with a binary for this platform and architecture (npm
 * drops the optional dependency when its install fails; its package ships binaries for some
 * platforms only). Checked once per process, without loading it: the worker loads it.
 */
function onnxRuntimeInstalled(): boolean {
  if (onnxInstalled === undefined) {
    try {
      const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
      onnxInstalled = existsSync(join(dirname(entry), "..", "bin", "napi-v6", process.platform, process.arch, "onnxruntime_binding.node"));
    } catch {
      onnxInstalled = false;
    }
  }
  return onnxInstalled;
}

/**
 * One pool per configuration and process, shared by every instance: each worker holds its own
 * copy of the weights, so instances should not each start their own.
 */
const pools = new Map<string, { pool: EmbeddingWorkerPool; users: number }>();

/**
 * Google's Universal Sentence Encoder Lite (512 dimensions, Apache-2.0), whose weights ship
 * inside npm, run with ONNX Runtime (a graph written from those weights in memory, nothing
 * downloaded) when `onnxruntime-node` is installed, with TensorFlow.js on WASM otherwise (see
 * {@link LocalEmbeddingsOptions.runtime}). Offline, deterministic, unit-norm vectors.
 *
 * The model runs in worker threads (docs/embeddings.md): an embedding (about 2 ms for a question
 * and 5 for a turn on ONNX Runtime, 15 to 30 on TF.js) never blocks the caller's thread, single
 * texts (queries) go ahead of queued batches, and TF.js's process-wide error handlers stay inside
 * the worker. Idle workers never keep the
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
  private readonly requestedRuntime: LocalRuntime | "auto";
  private pool?: EmbeddingWorkerPool;
  /** The shared pool this instance uses (runtime and options). */
  private poolEntryKey?: string;

  constructor(options: LocalEmbeddingsOptions = {}) {
    super(options);
    this.batchSize = options.batchSize ?? 16;
    this.threads = options.threads ?? 2;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.requestedRuntime = options.runtime ?? "auto";
    if (this.requestedRuntime !== "auto" && this.requestedRuntime !== "onnx" && this.requestedRuntime !== "tfjs") {
      throw new EngramError("INVALID_OPTIONS", `runtime must be "auto", "onnx" or "tfjs", got ${describeValue(options.runtime)}.`);
    }
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

  /**
   * What runs the model: the `runtime` option, with `"auto"` resolved for this machine, and, once
   * a worker answered, what it ran on (with `"auto"`, a worker where ONNX Runtime fails to load, as
   * on Alpine's musl libc, runs TF.js).
   */
  get runtime(): LocalRuntime {
    const answered = this.pool?.answeredBy;
    return answered === "onnx" || answered === "tfjs" ? answered : this.chosenRuntime();
  }

  /** The `runtime` option, `"auto"` resolved for this machine: the workers Engram starts. */
  private chosenRuntime(): LocalRuntime {
    if (this.requestedRuntime !== "auto") return this.requestedRuntime;
    return onnxRuntimeInstalled() ? "onnx" : "tfjs";
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const pool = this.acquire();
    // One text is what a turn waits on (a search); more are background work (a drain, an import).
    const priority = texts.length === 1 ? "query" : "batch";
    // Texts of like length share a request: the model pads a request to its longest text, and a
    // drain's texts come in any order. The vectors go back in the caller's order.
    const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
    const requests: Array<Promise<number[][]>> = [];
    for (let start = 0; start < order.length; start += this.batchSize) {
      requests.push(pool.run(order.slice(start, start + this.batchSize).map((i) => texts[i]!), priority));
    }
    // Every request is awaited, so a failed one never leaves the others' rejections unhandled.
    const settled = await Promise.allSettled(requests);
    const failure = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failure) throw failure.reason;
    const sorted = settled.flatMap((result) => (result as PromiseFulfilledResult<number[][]>).value);
    const vectors = new Array<number[]>(texts.length);
    order.forEach((index, position) => {
      vectors[index] = sorted[position]!;
    });
    return vectors;
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
    const key = this.poolEntryKey ?? "";
    const entry = pools.get(key);
    if (!entry) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    pools.delete(key);
    await entry.pool.close();
  }

  private acquire(): EmbeddingWorkerPool {
    if (this.pool) return this.pool;
    const runtime = this.chosenRuntime();
    // "auto" on ONNX Runtime falls back to TF.js in the worker when the runtime cannot load.
    const fallback = this.requestedRuntime === "auto" && runtime === "onnx";
    const key = `${runtime}:${fallback}:${this.poolKey}`;
    let entry = pools.get(key);
    if (!entry) {
      const pool = new EmbeddingWorkerPool({
        url: WORKER_URLS[runtime],
        threads: this.threads,
        idleTimeoutMs: this.idleTimeoutMs,
        name: `the local embedding model (Universal Sentence Encoder Lite on ${RUNTIME_NAMES[runtime]})`,
        ...(runtime === "onnx" ? { workerData: { fallback } } : {}),
      });
      entry = { pool, users: 0 };
      pools.set(key, entry);
    }
    this.poolEntryKey = key;
    entry.users += 1;
    this.pool = entry.pool;
    return entry.pool;
  }
}
