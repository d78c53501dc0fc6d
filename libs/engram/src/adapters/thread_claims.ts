/**
 * The filing log's thread claims that the chat history (chat_history/filer.ts) and EngramMemory
 * (base_memory/erasure.ts) keep for their threads: `Memory.deleteAll` leaves each claim of the user
 * to `ERASED_OWNER`, which the door's next use of the thread finds, in any process.
 */
import { shortHash } from "../core/ids.js";
import { FILING_LOCK } from "../memory/delete_all_filings.js";
import type { Memory } from "../memory/memory.js";
import type { StateBackend } from "../state/types.js";

/**
 * Runs `section` under the user's filing lock, the one `Memory.deleteAll` erases the filings under,
 * with the memory's state; an object with only the methods a door needs (no `state`) has no filing
 * log and no erasure to follow: `section` runs with none.
 */
export async function underFilingLock<R>(memory: object, userId: string, section: (state?: StateBackend) => Promise<R>): Promise<R> {
  const state = (memory as Partial<Pick<Memory, "state">>).state;
  if (!state) return section();
  await state.setup();
  return state.leases.exclusive(userId, FILING_LOCK, () => section(state));
}

/**
 * A door's key of the user's thread in the filing log: apart from the other doors' keys, the
 * checkpointer's thread ids and other users' threads of the same name. Hashed, since an erasure
 * leaves it behind and must not leave the user's id.
 */
export function threadClaimKey(door: string, userId: string, threadId: string): string {
  return `${door}:${shortHash(`${userId}\u0000${threadId}`)}`;
}
