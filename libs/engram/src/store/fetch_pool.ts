/*
 * A connection pool of its own for the requests to one local Chroma server. Node's fetch sends
 * every request through one process-wide pool (undici's global Agent), which keeps an entry per
 * origin (host:port) for the life of the process, even once its connections are closed. Each
 * embedded server runs on a port of its own, so a process that opens and closes many data folders
 * (a test run, a server opening a folder per tenant) kept ~35 KB for each one it ever reached.
 * A pool of our own, destroyed when the connection closes, takes its entries with it.
 */

/** Request options that send a fetch through the pool, and the pool's end. */
export interface FetchPool {
  /** Spread into fetch's (or chromadb's `fetchOptions`) request options. */
  readonly init: RequestInit;
  /** Closes the pool's connections and aborts what is still in flight (nothing should be). */
  destroy(): Promise<void>;
}

/** Where undici (Node's fetch, and any copy of the package) keeps the process-wide dispatcher. */
const GLOBAL_DISPATCHER = Symbol.for("undici.globalDispatcher.1");

interface Agent {
  destroy(): Promise<void>;
}

/**
 * A new pool of the same kind as Node's fetch uses (its global `Agent`'s class: Node exposes no
 * other way to make one without the undici package), or undefined when the process replaced the
 * global dispatcher with another kind (a proxy agent, say): requests then go through it, as before.
 */
export function ownFetchPool(): FetchPool | undefined {
  // Reading `Request` loads Node's fetch, which installs the global dispatcher.
  void globalThis.Request;
  const global: unknown = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
  const AgentClass: unknown = typeof global === "object" && global !== null ? global.constructor : undefined;
  if (typeof AgentClass !== "function" || AgentClass.name !== "Agent") return undefined;
  const agent = new (AgentClass as new () => Agent)();
  // `dispatcher` is Node's extension of RequestInit (undici): the DOM type does not name it.
  return { init: { dispatcher: agent } as unknown as RequestInit, destroy: () => agent.destroy() };
}

/**
 * Runs `run` with request options that send its fetches through a pool of their own, destroyed
 * once `run` settles (a probe's one or few requests to a local server's port).
 */
export async function withFetchPool<T>(run: (init: RequestInit) => Promise<T>): Promise<T> {
  const pool = ownFetchPool();
  try {
    return await run(pool?.init ?? {});
  } finally {
    await pool?.destroy().catch(() => undefined);
  }
}
