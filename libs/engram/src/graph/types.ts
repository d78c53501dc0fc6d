import type { Memory } from "../memory/memory.js";

/**
 * What the graph needs of a `Memory`: kept structural so a node can be given a `Memory` or a
 * user-scoped wrapper of one. With `scheduleForget` (a `Memory` has it) forgetting runs off the
 * turn; without it, `forget` is awaited in the turn.
 */
export type GraphMemory = Pick<Memory, "add" | "search" | "getAll" | "forget"> & Partial<Pick<Memory, "scheduleForget" | "usageHook">>;

/** Receives what a node could not do but survived (the store down, a forgetting pass that failed). */
export type WarningHandler = (message: string, cause?: unknown) => void;

export const defaultWarningHandler: WarningHandler = (message) => {
  console.warn(`[engram] ${message}`);
};
