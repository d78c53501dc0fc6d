/**
 * Runs of one thread, one after another: the public way to keep a thread's runs from overlapping
 * in an application that serves a graph itself (the LangGraph server queues them on its own).
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { IterableReadableStream } from "@langchain/core/utils/stream";
import { KeyedQueue } from "../core/keyed_queue.js";

/** What {@link queueThreadRuns} needs of a compiled LangGraph graph or a `createAgent` agent. */
export interface ThreadRunnable {
  invoke(input: never, options?: never): Promise<unknown>;
  stream(input: never, options?: never): Promise<AsyncIterable<unknown>>;
}

/** Methods of the graph that run on its thread, queued: `invoke`, `stream`, and `streamEvents` and `endSession` where the graph has them. */
type QueuedMethod = "invoke" | "stream" | "streamEvents" | "endSession";

/**
 * The graph's run methods, each queued per `configurable.thread_id`, and the graph itself
 * (`unqueued`) for everything else (`getState`, `getStateHistory`, `updateState`...).
 */
export type ThreadQueued<G extends ThreadRunnable> = Pick<G, Extract<keyof G, QueuedMethod>> & {
  /** The graph as given: its calls are not queued. */
  readonly unqueued: G;
};

/**
 * Wraps a graph (from `createMemoryGraph`, a `StateGraph` of your own with Engram's nodes, or a
 * `createAgent` agent with Engram's middleware) so that the runs of one thread run one after
 * another, in the order they were asked, and runs of different threads side by side.
 *
 * Why: LangGraph starts every run from its thread's latest checkpoint and does not order a
 * thread's runs. Two runs of one thread started together (a user sending two messages quickly,
 * a retry while the first request still runs) both begin from the same checkpoint, and the run
 * that ends last writes the thread without the other's turn: gone from the window, and, under
 * the importance threshold, from long-term memory. The LangGraph server queues a thread's runs; an
 * application serving the graph itself wraps it once:
 *
 * ```ts
 * const agent = queueThreadRuns(createMemoryGraph({ memory, model, checkpointer }));
 * await Promise.all([agent.invoke(first, config), agent.invoke(second, config)]); // second starts after first
 * ```
 *
 * - `stream` and `streamEvents` hold the thread from the call until the stream ends, fails or is
 *   cancelled (leaving a `for await` loop early cancels it): a stream never read holds its thread.
 * - `endSession` (the graph's, when it has one) is queued with the runs, so it never ends a session
 *   in the middle of a run.
 * - A call without `configurable.thread_id` is not queued.
 * - One process only: processes that share a checkpointer still need the LangGraph server, or one
 *   process per thread (route a thread's requests to one replica).
 *
 * Nothing of the graph is replaced or patched: the wrapper only calls its public methods.
 */
export function queueThreadRuns<G extends ThreadRunnable>(graph: G): ThreadQueued<G> {
  const threads = new ThreadQueue();
  const methods = graph as unknown as Record<QueuedMethod, ((input: unknown, options?: RunnableConfig) => Promise<unknown>) | undefined>;
  const queued: Partial<Record<QueuedMethod, unknown>> = {
    invoke: (input: unknown, options?: RunnableConfig) => threads.call(options, () => methods.invoke!.call(graph, input, options)),
    stream: (input: unknown, options?: RunnableConfig) =>
      threads.stream(options, () => methods.stream!.call(graph, input, options) as Promise<AsyncIterable<unknown>>),
  };
  if (typeof methods.streamEvents === "function") {
    const streamEvents = methods.streamEvents as (...args: unknown[]) => unknown;
    // streamEvents returns its stream at once (not a promise of one), and takes stream options
    // after the config: so does the queued one.
    queued.streamEvents = (input: unknown, options?: RunnableConfig, ...rest: unknown[]) =>
      threads.streamNow(options, async () => (await streamEvents.call(graph, input, options, ...rest)) as AsyncIterable<unknown>);
  }
  if (typeof methods.endSession === "function") {
    const endSession = methods.endSession;
    queued.endSession = (config: RunnableConfig) => threads.call(config, () => endSession.call(graph, config));
  }
  return Object.assign(queued, { unqueued: graph }) as unknown as ThreadQueued<G>;
}

/** Turns of each thread id, one at a time. */
class ThreadQueue {
  private readonly queue = new KeyedQueue();

  /** A run that ends when its promise settles. */
  call<T>(options: RunnableConfig | undefined, run: () => Promise<T>): Promise<T> {
    const thread = threadOf(options);
    return thread === undefined ? run() : this.queue.run(thread, run);
  }

  /** A streamed run: the thread is held until the stream is done with. */
  async stream(options: RunnableConfig | undefined, open: () => Promise<AsyncIterable<unknown>>): Promise<IterableReadableStream<unknown>> {
    const release = await this.turn(options);
    let source: AsyncIterable<unknown>;
    try {
      source = await open();
    } catch (error) {
      release();
      throw error;
    }
    return IterableReadableStream.fromAsyncGenerator(releasing(source, release));
  }

  /** The same, for a method whose stream is returned at once: waiting for the thread happens inside it. */
  streamNow(options: RunnableConfig | undefined, open: () => Promise<AsyncIterable<unknown>>): IterableReadableStream<unknown> {
    const queue = this;
    async function* run(): AsyncGenerator<unknown> {
      yield* await queue.stream(options, open);
    }
    return IterableReadableStream.fromAsyncGenerator(run());
  }

  /** Waits for the thread's earlier runs; resolves to the function that lets the next one start. */
  private turn(options: RunnableConfig | undefined): Promise<() => void> {
    const thread = threadOf(options);
    if (thread === undefined) return Promise.resolve(() => undefined);
    return new Promise((granted) => {
      // The queued task ends when the run releases it; it never rejects.
      void this.queue.run(thread, () => new Promise<void>((done) => granted(done)));
    });
  }
}

/** Yields the stream's chunks, then lets the thread's next run start however the reading ends. */
async function* releasing(source: AsyncIterable<unknown>, release: () => void): AsyncGenerator<unknown> {
  try {
    yield* source;
  } finally {
    release();
  }
}

function threadOf(options: RunnableConfig | undefined): string | undefined {
  const thread: unknown = options?.configurable?.thread_id;
  return typeof thread === "string" || typeof thread === "number" ? String(thread) : undefined;
}
