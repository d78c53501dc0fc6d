/**
 * `Memory.deleteAll` and the thread states EngramMemory keeps in process (thread_state.ts). The
 * erasure removes the user's records and state rows in whichever process runs it; the window and
 * running summary of the user's threads lived on in every process serving them: the next prompt
 * showed the erased turns, and once they left the window they were summarized and stored again.
 *
 * Each thread is claimed in the state's filing log (as the chat history's threads are,
 * adapters/chat_history/filer.ts); the erasure leaves the claim to `ERASED_OWNER`, which the next
 * load or save of the thread, in any process, finds: the thread's state then starts over empty.
 * A save runs under the user's filing lock, the one the erasure takes first: it writes either
 * before the erasure (which removes it) or after it, on the emptied state.
 */
import type { Memory } from "../../memory/memory.js";
import { ERASED_OWNER } from "../../state/erased_owner.js";
import type { StateBackend } from "../../state/types.js";
import { threadClaimKey } from "../thread_claims.js";
import type { ThreadState } from "./thread_state.js";

interface Thread {
  memory: object;
  userId: string;
  threadId: string;
}

/** Empties the thread's state in place when its user was erased since it was claimed. */
export async function forgetIfErased(thread: Thread, state: ThreadState): Promise<void> {
  const backend = stateOf(thread.memory);
  if (!backend) return;
  await backend.setup();
  const key = claimKey(thread);
  if (!(await backend.filings().claim(key, thread.userId)).includes(ERASED_OWNER)) return;
  // In place: a save queued on this state (ThreadState.saving) builds on the emptied one.
  Object.assign(state, { messages: [], summary: "", turns: 0, turnsSinceForget: 0, lastRecalled: [], lastProcedures: [] });
  await backend.filings().forgetThread(key);
  await backend.filings().claim(key, thread.userId);
}

/** An object with only the methods the chain needs has no state, and no erasure to follow. */
function stateOf(memory: object): StateBackend | undefined {
  return (memory as Partial<Pick<Memory, "state">>).state;
}

/** The thread's key in the filing log, apart from the chat history's and the checkpointer's. */
function claimKey(thread: Thread): string {
  return threadClaimKey("engram-memory", thread.userId, thread.threadId);
}
