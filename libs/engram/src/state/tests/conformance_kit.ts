/**
 * What every part of the shared-state conformance suite (state/conformance.ts) is given, and the
 * helpers they share.
 */
import type { NewHistoryEntry, StateBackend } from "../types.js";

/** How a part gets state to test; every instance opened is set up, and closed after the test. */
export interface StateKit {
  /** A fresh, empty store and a function that opens another instance on it (another replica). */
  store(): Promise<() => Promise<StateBackend>>;
  /** One instance on a fresh store. */
  one(): Promise<StateBackend>;
}

export type Payload = { v: number };

/**
 * A claim that must outlive a few round trips on a busy machine, and the wait after which it has
 * surely lapsed (an owner that "died"). The lease is timed from the claim, the lapse from after
 * the claim returned, so LAPSE_MS > LEASE_MS always sees it lapsed; LEASE_MS must exceed the
 * longest stall between a claim and the checks that it still holds (a 1.5 s lease could lapse
 * on a loaded CI machine after two round trips, and another owner then took the user's writes).
 */
export const LEASE_MS = 6_000;
export const LAPSE_MS = 6_500;

export const entry = (userId: string, memoryId: string, newContent: string, at?: number): NewHistoryEntry => ({
  memoryId,
  userId,
  event: "ADD",
  oldContent: null,
  newContent,
  reason: "add",
  ...(at === undefined ? {} : { at }),
});
