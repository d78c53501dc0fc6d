/**
 * The checkpointer's filings in `Memory.deleteAll`. A filing (adapters/checkpointer/
 * filing_worker.ts) reads a user's messages from the filing log, then writes them through
 * `Memory.add`, in any process on the state: one that read them before an erasure must not write
 * them after it. Each filing re-reads that its rows are still queued and writes them under the
 * user's {@link FILING_LOCK}; the erasure removes the rows under the same lock, first of all. So a
 * filing either wrote its messages before (then the rest of the erasure removes them) or finds its
 * rows gone and writes nothing.
 */
import type { StateBackend } from "../state/types.js";

/** The per-user exclusive section (`LeaseState.exclusive`) of a filing's write and of its erasure. */
export const FILING_LOCK = "filing";

/**
 * Removes the user's filings and taken keys, leaving their threads to nobody (`ERASED_OWNER`), once
 * no filing of the user is writing. Returns how many rows went.
 */
export function eraseFilings(state: StateBackend, userId: string): Promise<number> {
  return state.leases.exclusive(userId, FILING_LOCK, () => state.filings().deleteUser(userId));
}
