import { Worker } from "node:worker_threads";
import { EngramError } from "../core/errors.js";
import { describeValue } from "../core/describe.js";

/** How urgent a request is: a query waits on a turn, a batch is background work (a drain, an import). */
export type TaskPriority = "query" | "batch";

/** Options for {@link EmbeddingWorkerPool}. */
export interface EmbeddingWorkerPoolOptions {
  /**
   * The worker module. It answers `{ id, texts }` with `{ id, flat, dimensions }` (the vectors as
   * one Float32Array) or `{ id, error }`.
   */
  url: URL;
  /**
   * Most worker threads at once. With two or more, batches use at most all but one, so a query
   * never waits behind background work.
   * @default 2
   */
  threads?: number;
  /**
   * A worker idle this long is stopped (it is unref'd as soon as it is idle, so it never keeps
   * the process alive meanwhile). The next request starts one again.
   * @default 30_000
   */
  idleTimeoutMs?: number;
  /** Names the model in error messages. @default "the embedding model" */
  name?: string;
  /** Given to each worker as `workerData`. */
  workerData?: unknown;
}

interface Task {
  texts: string[];
  priority: TaskPriority;
  resolve(vectors: number[][]): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  task?: Task;
  idleTimer?: NodeJS.Timeout;
  /** Set once the worker failed or is being stopped: it takes no more tasks. */
  dead: boolean;
}

type Reply = { id: number; flat: Float32Array; dimensions: number; runtime?: string } | { id: number; error: string };

/**
 * A small pool of worker threads that run an embedding model off the caller's thread. Requests
 * of priority "query" go ahead of queued "batch" requests. A worker that crashes fails only the
 * request it was running (with `EMBEDDING_FAILED`); the next request gets a fresh worker. Idle
 * workers never keep the process alive, and stop after `idleTimeoutMs`.
 */
export class EmbeddingWorkerPool {
  private readonly url: URL;
  private readonly threads: number;
  private readonly idleTimeoutMs: number;
  private readonly name: string;
  private readonly workerData: unknown;
  /** What the last answer said ran the model (a worker that names it), if any answered yet. */
  answeredBy?: string;
  private readonly slots = new Set<Slot>();
  private readonly queries: Task[] = [];
  private readonly batches: Task[] = [];
  private nextId = 0;
  private closed = false;

  constructor(options: EmbeddingWorkerPoolOptions) {
    this.url = options.url;
    this.threads = options.threads ?? 2;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.name = options.name ?? "the embedding model";
    this.workerData = options.workerData;
    if (!Number.isInteger(this.threads) || this.threads < 1) {
      throw new EngramError("INVALID_OPTIONS", `threads must be a positive integer, got ${describeValue(options.threads)}.`);
    }
    if (!(this.idleTimeoutMs >= 0)) {
      throw new EngramError("INVALID_OPTIONS", `idleTimeoutMs must be a non-negative number, got ${describeValue(options.idleTimeoutMs)}.`);
    }
  }

  /** Live worker threads (for tests and diagnostics). */
  get size(): number {
    return this.slots.size;
  }

  run(texts: string[], priority: TaskPriority): Promise<number[][]> {
    if (this.closed) return Promise.reject(new EngramError("CLOSED", `The worker pool of ${this.name} was closed.`));
    return new Promise((resolve, reject) => {
      (priority === "query" ? this.queries : this.batches).push({ texts, priority, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; requests queued or running are refused with `CLOSED`. */
  async close(): Promise<void> {
    this.closed = true;
    const refused = new EngramError("CLOSED", `The worker pool of ${this.name} was closed.`);
    for (const task of this.queries.splice(0).concat(this.batches.splice(0))) task.reject(refused);
    const stopping: Array<Promise<number>> = [];
    for (const slot of this.slots) {
      slot.task?.reject(refused);
      slot.task = undefined;
      stopping.push(this.stop(slot));
    }
    await Promise.all(stopping);
  }

  private dispatch(): void {
    for (;;) {
      const task = this.queries[0] ?? (this.batchSlotFree() ? this.batches[0] : undefined);
      if (!task) return;
      const slot = this.idleSlot() ?? (this.slots.size < this.threads ? this.spawn() : undefined);
      if (!slot) return;
      (task.priority === "query" ? this.queries : this.batches).shift();
      this.assign(slot, task);
    }
  }

  /** Batches may use every worker but one, so that a query always finds one free (with 2+ threads). */
  private batchSlotFree(): boolean {
    let busyWithBatches = 0;
    for (const slot of this.slots) if (slot.task?.priority === "batch") busyWithBatches += 1;
    return busyWithBatches < Math.max(1, this.threads - 1);
  }

  private idleSlot(): Slot | undefined {
    for (const slot of this.slots) if (!slot.task && !slot.dead) return slot;
    return undefined;
  }

  private assign(slot: Slot, task: Task): void {
    clearTimeout(slot.idleTimer);
    slot.task = task;
    // A request in flight keeps the process alive until it is answered, like any pending I/O.
    slot.worker.ref();
    slot.worker.postMessage({ id: ++this.nextId, texts: task.texts });
  }

  private spawn(): Slot {
    // No flags of the host's command line: the worker is plain JavaScript and needs no loader,
    // and some flags (`--input-type`) make a worker fail to start.
    const worker = new Worker(this.url, { execArgv: [], workerData: this.workerData });
    const slot: Slot = { worker, dead: false };
    this.slots.add(slot);
    worker.on("message", (reply: Reply) => this.answer(slot, reply));
    // An uncaught error in the worker (the WASM glue rethrows), or a worker that ran out of memory.
    worker.on("error", (error: Error) => this.fail(slot, error));
    worker.on("exit", (code) => this.fail(slot, new Error(`the worker thread exited with code ${code}`)));
    return slot;
  }

  private answer(slot: Slot, reply: Reply): void {
    const task = slot.task;
    slot.task = undefined;
    if (task) {
      if ("error" in reply) {
        task.reject(new EngramError("EMBEDDING_FAILED", `${capitalize(this.name)} failed: ${reply.error}`));
      } else {
        if (reply.runtime !== undefined) this.answeredBy = reply.runtime;
        const vectors: number[][] = [];
        for (let i = 0; i < task.texts.length; i += 1) {
          vectors.push(Array.from(reply.flat.subarray(i * reply.dimensions, (i + 1) * reply.dimensions)));
        }
        task.resolve(vectors);
      }
    }
    this.idle(slot);
    this.dispatch();
  }

  private idle(slot: Slot): void {
    if (slot.dead || slot.task) return;
    slot.worker.unref();
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (!slot.task) void this.stop(slot);
    }, this.idleTimeoutMs);
    slot.idleTimer.unref();
  }

  /** A crash (or an exit we did not ask for): the request it ran fails, the others go elsewhere. */
  private fail(slot: Slot, cause: Error): void {
    const task = slot.task;
    slot.task = undefined;
    slot.dead = true;
    clearTimeout(slot.idleTimer);
    this.slots.delete(slot);
    task?.reject(
      new EngramError("EMBEDDING_FAILED", `${capitalize(this.name)} failed: its worker thread stopped (${cause.message}).`, { cause }),
    );
    if (!this.closed) this.dispatch();
  }

  private stop(slot: Slot): Promise<number> {
    slot.dead = true;
    clearTimeout(slot.idleTimer);
    this.slots.delete(slot);
    slot.worker.removeAllListeners("exit");
    slot.worker.removeAllListeners("error");
    // A late error event from a stopping worker must not become an unhandled 'error' event.
    slot.worker.on("error", () => undefined);
    return slot.worker.terminate();
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
