/**
 * The shapes the turn core reads and returns: what it needs of a `Memory`, where it reports what
 * it survived, and what recall gives a turn. No framework type here: every door translates.
 */
import type { MemoryRecord, ScoredMemory } from "../core/types.js";
import type { Memory } from "../memory/memory.js";

/**
 * What a turn needs of a `Memory`: kept structural so a door can be given a `Memory` or a
 * user-scoped wrapper of one. With `scheduleForget` (a `Memory` has it) forgetting runs off the
 * turn; without it, `forget` is awaited in the turn.
 */
export type TurnMemory = Pick<Memory, "add" | "search" | "getAll" | "forget"> & Partial<Pick<Memory, "scheduleForget" | "usageHook">>;

/** Receives what a turn could not do but survived (the store down, a forgetting pass that failed). */
export type WarningHandler = (message: string, cause?: unknown) => void;

export const defaultWarningHandler: WarningHandler = (message) => {
  console.warn(`[engram] ${message}`);
};

/** What long-term memory gives a turn. */
export interface Recollection {
  /** Recalled memories, best first (none of them in the window already). */
  recalled: ScoredMemory[];
  /** The user's core blocks and learned instructions. */
  procedures: MemoryRecord[];
  /**
   * True when the store could not be read: `recalled` and `procedures` are then empty, and a
   * door that keeps the last procedures read (the graph's state) keeps showing them.
   */
  degraded: boolean;
}
