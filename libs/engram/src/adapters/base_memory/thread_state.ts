import type { BaseMessage } from "@langchain/core/messages";
import type { MemoryRecord, ScoredMemory } from "../../core/types.js";

/** What `EngramMemory` keeps in process for one (user, thread): its short-term memory. */
export interface ThreadState {
  /** The window: the newest turns, verbatim. Older turns are folded into `summary`. */
  messages: BaseMessage[];
  /** Running summary of the turns that left the window ("" until the first eviction). */
  summary: string;
  /** Turns saved in this thread by this process; part of each message's deterministic id. */
  turns: number;
  /** Turns since forgetting last ran (the consolidate node's counter). */
  turnsSinceForget: number;
  /** What the last `loadMemoryVariables` recalled, so `saveContext` can score the turn's novelty. */
  lastRecalled: ScoredMemory[];
  /** The core blocks and instructions the last `loadMemoryVariables` showed (never stored back). */
  lastProcedures?: MemoryRecord[];
  /**
   * The last `saveContext` of the thread, settled or not: saves run one after another, each on
   * the window the previous one left (two at once each replaced the window with its own turn).
   */
  saving?: Promise<void>;
}

/** Threads kept per `Memory` in one process; the least recently used thread is dropped past it. */
export const MAX_THREADS_IN_PROCESS = 10_000;

/**
 * Thread states, shared by every `EngramMemory` on the same `Memory` object: a web server that
 * builds a new chain (and a new `EngramMemory`) per request still finds the thread's window.
 * Keyed by the `Memory` object weakly, so closing and dropping a `Memory` frees its threads.
 */
const registry = new WeakMap<object, Map<string, ThreadState>>();

export function threadState(owner: object, userId: string, threadId: string): ThreadState {
  let threads = registry.get(owner);
  if (!threads) {
    threads = new Map();
    registry.set(owner, threads);
  }
  // The user is part of the key: two users given the same thread id never share a window.
  const key = JSON.stringify([userId, threadId]);
  let state = threads.get(key);
  if (state) {
    // Map order is insertion order: re-inserting marks the thread as most recently used.
    threads.delete(key);
  } else {
    state = { messages: [], summary: "", turns: 0, turnsSinceForget: 0, lastRecalled: [] };
  }
  threads.set(key, state);
  if (threads.size > MAX_THREADS_IN_PROCESS) threads.delete(threads.keys().next().value!);
  return state;
}

/** Forgets a thread's short-term memory (its long-term records stay). */
export function dropThreadState(owner: object, userId: string, threadId: string): void {
  registry.get(owner)?.delete(JSON.stringify([userId, threadId]));
}
