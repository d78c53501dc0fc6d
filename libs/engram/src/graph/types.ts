import type { TurnMemory } from "../turn/types.js";

/**
 * What the graph needs of a `Memory` (the turn core's `TurnMemory`): a `Memory` or a user-scoped
 * wrapper of one.
 */
export type GraphMemory = TurnMemory;

export { defaultWarningHandler, type WarningHandler } from "../turn/types.js";
