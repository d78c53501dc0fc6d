/**
 * One run of a thread at a time, in this process. LangGraph starts a run from the thread's latest
 * checkpoint and does not order the runs of a thread (the LangGraph server does: its runs queue per
 * thread). Two runs of one thread started together (two tabs of a chat, a retry while the first
 * request still runs) both started from the same checkpoint, and the run that ended last wrote the
 * thread without the other's turn: gone from the window, and for a turn under the importance
 * threshold gone for good (it reaches long-term memory only through its summary, when it leaves
 * the window). The memory graph queues its runs per thread, as the server does, so each run starts
 * from the state the previous one left.
 *
 * Not across processes: two processes running one thread on a shared checkpointer still race.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { KeyedQueue } from "../core/keyed_queue.js";

/** The part of a compiled graph whose runs are queued: every run (invoke, stream, streamEvents) goes through it. */
interface RunnableGraph {
  checkpointer?: unknown;
  _streamIterator(input: never, options?: never): AsyncGenerator<unknown>;
}

/**
 * The runs of a graph's threads in this process, one at a time per thread: {@link attach} queues
 * the graph's runs, {@link exclusive} a session end with them. An end that read the window while a
 * run went on removed the window's turns with its update, and the run's last checkpoint, written on
 * its own line of checkpoints, brought them back (to be filed again).
 */
export class ThreadRuns {
  private readonly queue = new KeyedQueue();

  /**
   * Queues the graph's runs per thread: a run of a thread waits for the earlier runs of that
   * thread in this graph to end (done, failed, aborted, or paused by an interrupt) before it reads
   * the thread's checkpoint. Runs of other threads, runs without a checkpointer and the graph run as
   * a subgraph of another (its parent orders those) are not held.
   */
  attach(graph: RunnableGraph): void {
    const queue = this.queue;
    const run = graph._streamIterator.bind(graph) as (input: unknown, options?: RunnableConfig) => AsyncGenerator<unknown>;
    const queued = async function* (input: unknown, options?: RunnableConfig): AsyncGenerator<unknown> {
      const thread = graph.checkpointer && !nested(options) ? threadOf(options) : undefined;
      if (thread === undefined) {
        yield* run(input, options);
        return;
      }
      const slot = hold(queue, thread);
      // An aborted run frees the thread at once: LangGraph rejects its caller on the abort without
      // ending the run's iterator (its pending step never settles), so no `finally` would.
      const signal = options?.signal;
      signal?.addEventListener("abort", slot.release, { once: true });
      try {
        await waitUnlessAborted(slot.held, signal);
        yield* run(input, options);
      } finally {
        signal?.removeEventListener("abort", slot.release);
        slot.release();
      }
    };
    (graph as { _streamIterator: typeof queued })._streamIterator = queued;
  }

  /** Runs `task` (a session end of `config`'s thread) between the thread's runs in this process. */
  async exclusive<T>(config: RunnableConfig, task: () => Promise<T>): Promise<T> {
    const thread = threadOf(config);
    if (thread === undefined) return task();
    const slot = hold(this.queue, thread);
    try {
      await slot.held;
      return await task();
    } finally {
      slot.release();
    }
  }
}

/**
 * True when called from inside a run of `config`'s thread (a node or a tool of it): an end of the
 * thread from there cannot wait for the runs of the thread, the one it is part of among them.
 */
export function insideRunOf(config: RunnableConfig): boolean {
  const ambient = AsyncLocalStorageProviderSingleton.getRunnableConfig() as RunnableConfig | undefined;
  const thread = threadOf(config);
  return thread !== undefined && ambient?.configurable?.__pregel_read !== undefined && threadOf(ambient) === thread;
}

/** A place in the key's queue: `held` once the earlier holders are done; `release` ends it (at any time, more than once). */
function hold(queue: KeyedQueue, key: string): { held: Promise<void>; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const holding = new Promise<void>((resolve) => (held = resolve));
  void queue.run(key, () => {
    held();
    return released;
  });
  return { held: holding, release };
}

/** Resolves with `held`, or rejects with the abort's reason when the run is aborted first. */
async function waitUnlessAborted(held: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return held;
  signal.throwIfAborted();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([held, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** True for the graph running inside another graph's node: LangGraph's internal read key in the run's or the ambient config. */
function nested(options: RunnableConfig | undefined): boolean {
  const ambient = (AsyncLocalStorageProviderSingleton.getRunnableConfig() as RunnableConfig | undefined)?.configurable;
  return options?.configurable?.__pregel_read !== undefined || ambient?.__pregel_read !== undefined;
}

/** A run's thread (its `thread_id` and namespace, the last part of a node's left out), undefined without one. */
function threadOf(config: RunnableConfig | undefined): string | undefined {
  const configurable = config?.configurable ?? {};
  const thread = configurable.thread_id;
  if (thread === undefined || thread === null || thread === "") return undefined;
  let namespace = typeof configurable.checkpoint_ns === "string" ? configurable.checkpoint_ns : "";
  // In a node the namespace ends with the node's task ("consolidate:<id>"); the run's is what precedes it.
  if (configurable.__pregel_read !== undefined) namespace = namespace.split("|").slice(0, -1).join("|");
  return JSON.stringify([String(thread), namespace]);
}
