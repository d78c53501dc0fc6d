import { EngramError, isEngramError, type EngramErrorCode } from "../../core/errors.js";
import type { Memory } from "../../memory/memory.js";
import type { PendingFiling } from "../../state/types.js";
import type { FilableMessage } from "./messages.js";

/** What filing one recorded batch did. */
export interface FilingOutcome {
  /** Messages Memory took (stored, already there, or waiting in its outbox for the store). */
  filed: number;
  /** Messages Memory refused for good; the rest of the batch was filed. */
  skipped: Array<{ messageId?: string; error: EngramError }>;
  /** An outage (embedding, database, a closed Memory): nothing was filed, retry later. */
  error?: EngramError;
}

/** Refusals that no retry can fix: the message itself is the problem. */
const PERMANENT: ReadonlySet<EngramErrorCode> = new Set<EngramErrorCode>([
  "INVALID_CONTENT",
  "CONTENT_TOO_LARGE",
  "INVALID_METADATA",
  "INVALID_USER_ID",
  "INVALID_SCOPE",
  "INVALID_OPTIONS",
  "INVALID_ID",
]);

/** Consecutive filings of one thread and user, filed with one `Memory.add`. */
export interface FilingGroup {
  seqs: number[];
  threadId: string;
  userId: string;
  messages: FilableMessage[];
}

/**
 * Merges runs of consecutive filings of the same thread and user, up to `maxMessages` messages a
 * group (a single filing larger than that stays whole). Order is kept.
 */
export function groupFilings(pending: Array<PendingFiling<FilableMessage>>, maxMessages: number): FilingGroup[] {
  const groups: FilingGroup[] = [];
  for (const filing of pending) {
    const last = groups[groups.length - 1];
    if (
      last &&
      last.threadId === filing.threadId &&
      last.userId === filing.userId &&
      last.messages.length + filing.messages.length <= maxMessages
    ) {
      last.seqs.push(filing.seq);
      last.messages.push(...filing.messages);
    } else {
      groups.push({ seqs: [filing.seq], threadId: filing.threadId, userId: filing.userId, messages: [...filing.messages] });
    }
  }
  return groups;
}

/**
 * Files one group into the user's memory. Memory's ids are deterministic on user, thread and
 * message id, so filing a batch again (after a crash) stores nothing twice. A store outage is
 * not an error here: Memory keeps the writes in its durable outbox and replays them.
 */
export async function fileMessages(memory: Memory, filing: FilingGroup, importance: number): Promise<FilingOutcome> {
  // A message longer than Memory's limit is stored as linked parts: a long reply is never refused.
  const scope = { userId: filing.userId, threadId: filing.threadId, importance, oversize: "split" as const };
  try {
    await memory.add(filing.messages.map(toInput), scope);
    return { filed: filing.messages.length, skipped: [] };
  } catch (error) {
    if (!isPermanent(error)) return { filed: 0, skipped: [], error: asEngramError(error) };
  }
  // One message spoiled the batch: file them one by one, so only that one is lost.
  const outcome: FilingOutcome = { filed: 0, skipped: [] };
  for (const message of filing.messages) {
    try {
      await memory.add([toInput(message)], scope);
      outcome.filed += 1;
    } catch (error) {
      if (!isPermanent(error)) return { ...outcome, error: asEngramError(error) };
      outcome.skipped.push({ ...(message.id ? { messageId: message.id } : {}), error: error as EngramError });
    }
  }
  return outcome;
}

function toInput(message: FilableMessage): { role: string; content: string; id?: string } {
  return message.id === undefined
    ? { role: message.role, content: message.content }
    : { role: message.role, content: message.content, id: message.id };
}

function isPermanent(error: unknown): boolean {
  return isEngramError(error) && PERMANENT.has(error.code);
}

function asEngramError(error: unknown): EngramError {
  return isEngramError(error) ? error : new EngramError("STORE_ERROR", `Filing messages failed: ${(error as Error)?.message ?? error}`, { cause: error });
}
