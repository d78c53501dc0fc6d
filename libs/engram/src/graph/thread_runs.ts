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
 * Queues the graph's runs per thread: a run of a thread waits for the earlier runs of that thread
 * in this graph to end (done, failed, aborted, or paused by an interrupt) before it reads the
 * thread's checkpoint. Runs of other threads, runs without a checkpointer and the graph run as a
 * subgraph of another (its parent orders those) are not held.
 */
export function oneRunPerThread(graph: RunnableGraph): void {
  const queue = new KeyedQueue();
  const run = graph._streamIterator.bind(graph) as (input: unknown, options?: RunnableConfig) => AsyncGenerator<unknown>;
  const queued = async function* (input: unknown, options?: RunnableConfig): AsyncGenerator<unknown> {
    const thread = graph.checkpointer ? rootThread(options) : undefined;
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

/**
 * The thread of a run started by the app (its `thread_id` and root namespace), undefined for a run
 * without one, or for the graph running inside another graph's node (LangGraph's internal read
 * key in the run's or the ambient config).
 */
function rootThread(options: RunnableConfig | undefined): string | undefined {
  const configurable = options?.configurable ?? {};
  const ambient = (AsyncLocalStorageProviderSingleton.getRunnableConfig() as RunnableConfig | undefined)?.configurable;
  if (configurable.__pregel_read !== undefined || ambient?.__pregel_read !== undefined) return undefined;
  const thread = configurable.thread_id;
  if (thread === undefined || thread === null || thread === "") return undefined;
  return JSON.stringify([String(thread), configurable.checkpoint_ns ?? ""]);
}
