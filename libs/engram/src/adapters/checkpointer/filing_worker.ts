import type { EngramError } from "../../core/errors.js";
import type { ScoredMemory } from "../../core/types.js";
import type { Memory } from "../../memory/memory.js";
import { ERASED_OWNER } from "../../state/erased_owner.js";
import type { FilingState } from "../../state/types.js";
import { stripEngramContext } from "../../turn/engram_context.js";
import { fileMessages, groupFilings, type FilingGroup, type FilingOutcome } from "./filer.js";
import type { FilableMessage } from "./messages.js";
import type { CheckpointerFlushResult, DeletedThreadMemories, EngramCheckpointerOptions } from "./options.js";

/** Filings read from the log at a time. */
const FILINGS_PER_READ = 256;

/** Most messages handed to one `Memory.add` (one embedding batch). */
const MESSAGES_PER_ADD = 64;

/** Threads whose last recall is remembered for filing (least recently recalled dropped past it). */
const MAX_SHOWN_THREADS = 1_000;

/** Refusals `flush()` returns at most: the latest. */
const MAX_SKIPPED = 100;

/**
 * Moves recorded filings from the filing log into `Memory`, one at a time and in order (filings
 * and thread erasures share one queue), and erases a thread's memories. The log (a `FilingState`:
 * SQLite by default, or the app's shared state) is what makes it durable: a filing recorded but
 * not done when the process dies is done by the next worker on the same log.
 */
export class FilingWorker {
  /** Filings and thread erasures run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();

  private drainScheduled = false;

  private filedSinceFlush = 0;

  private skipped: CheckpointerFlushResult["skipped"] = [];

  /** Refusals left out of `skipped` since the last flush (it keeps the last {@link MAX_SKIPPED}). */
  private skippedOmitted = 0;

  /** What `recall` last returned per (user, thread): never filed back when a reply echoes it. */
  private readonly shown = new Map<string, string[]>();

  /**
   * @param userLock runs a section under the user's `FILING_LOCK` (memory/delete_all_filings.ts),
   *   across every process on the state: the lock `Memory.deleteAll` erases the user's filings under.
   */
  constructor(
    private readonly memory: Memory,
    private readonly log: () => Promise<FilingState<FilableMessage>>,
    private readonly userLock: <T>(userId: string, section: () => Promise<T>) => Promise<T>,
    private readonly importance: number,
    private readonly onFilingError: EngramCheckpointerOptions["onFilingError"],
  ) {}

  /** Records the messages of a checkpoint not filed before; the filing runs in the background. */
  async record(threadId: string, userId: string, messages: FilableMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const log = await this.log();
    if ((await log.take(threadId, userId, messages)).length > 0) this.scheduleDrain();
  }

  /** Files what a previous process recorded but did not finish (called once the log is open). */
  resume(): void {
    this.scheduleDrain();
  }

  /** Waits for every recorded filing; throws the outage that stopped it. */
  async flush(): Promise<CheckpointerFlushResult> {
    const error = await this.exclusive(() => this.drain());
    if (error) throw error;
    const omitted = this.skippedOmitted;
    const result: CheckpointerFlushResult = {
      filed: this.filedSinceFlush,
      skipped: this.skipped,
      pending: await (await this.log()).size(),
      ...(omitted > 0 ? { skippedOmitted: omitted } : {}),
    };
    this.filedSinceFlush = 0;
    this.skipped = [];
    this.skippedOmitted = 0;
    return result;
  }

  /** Files every waiting filing; throws the outage that stopped it (counts stay for `flush`). */
  async fileWaiting(): Promise<void> {
    const error = await this.exclusive(() => this.drain());
    if (error) throw error;
  }

  /** See `EngramCheckpointer.deleteThreadMemories`. */
  deleteThreadMemories(threadId: string): Promise<DeletedThreadMemories> {
    return this.exclusive(async () => {
      const log = await this.log();
      // Waiting filings first, so nothing of the thread can be filed after its memories are gone.
      const dropped = await log.dropPending(threadId);
      const deleted: Record<string, number> = {};
      // An erased user's threads are owned by nobody (ERASED_OWNER): no memories to delete.
      for (const userId of (await log.usersOf(threadId)).filter((user) => user !== ERASED_OWNER)) {
        // A filing of the thread that checked its rows before the drop (in any process) writes
        // under this lock: once it is ours, that write has landed, and the loop below deletes it.
        await this.userLock(userId, async () => undefined);
        deleted[userId] = 0;
        for (;;) {
          // Facts whose validity ended too: a superseded fact keeps its content (getAll leaves
          // it out unless asked), and it was left behind.
          const page = await this.memory.getAll({ userId, threadId, limit: 1_000, includeInvalid: true });
          if (page.length === 0) break;
          for (const record of page) await this.memory.delete(record.id, { userId });
          deleted[userId] += page.length;
        }
      }
      await log.forgetThread(threadId);
      return { threadId, deleted, dropped };
    });
  }

  /** Waits for the work in progress. */
  async idle(): Promise<void> {
    await this.exclusive(async () => undefined);
  }

  /** Keeps what a recall showed for a thread, so that a reply echoing it files only the rest. */
  noteShown(userId: string, threadId: string, found: ScoredMemory[]): void {
    const key = JSON.stringify([userId, threadId]);
    this.shown.delete(key);
    this.shown.set(key, found.map((hit) => hit.content));
    if (this.shown.size > MAX_SHOWN_THREADS) this.shown.delete(this.shown.keys().next().value!);
  }

  /**
   * The group without what Engram put into the prompt (a recalled-memories section, or a line
   * that is one of the memories `recall` returned for the thread) in the assistant's messages.
   */
  private withoutEngramContext(group: FilingGroup): FilingGroup {
    const recalled = (this.shown.get(JSON.stringify([group.userId, group.threadId])) ?? []).map((content) => ({ content }));
    const messages = group.messages.flatMap((message) => {
      if (message.role !== "assistant") return [message];
      const content = stripEngramContext(message.content, { recalled });
      return content === "" ? [] : [{ ...message, content }];
    });
    return { ...group, messages };
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    // Errors stay with the recorded filings; flush() reports them.
    void this.exclusive(() => this.drain()).catch(() => undefined);
  }

  /** Files recorded filings, oldest first, until none is left or an outage stops it. */
  private async drain(): Promise<EngramError | undefined> {
    this.drainScheduled = false;
    const log = await this.log();
    for (;;) {
      const pending = await log.pending(FILINGS_PER_READ);
      if (pending.length === 0) return undefined;
      // One Memory.add per run of filings of the same thread and user: embedding in batches is
      // several times faster than one message at a time.
      for (const whole of groupFilings(pending, MESSAGES_PER_ADD)) {
        const group = this.withoutEngramContext(whole);
        const outcome = await this.fileIfQueued(log, group);
        // Erased, dropped or done by another worker since read: the next read has what is left.
        if (outcome === undefined) continue;
        if (outcome.error) {
          await log.fail(group.seqs, outcome.error.message);
          return outcome.error;
        }
        await log.complete(group.seqs);
        this.filedSinceFlush += outcome.filed;
        for (const skip of outcome.skipped) {
          const entry = { threadId: group.threadId, userId: group.userId, error: skip.error, ...(skip.messageId ? { messageId: skip.messageId } : {}) };
          if (this.onFilingError) this.onFilingError(skip.error, entry);
          else {
            // A process that never flushes would otherwise keep every refusal it ever saw.
            this.skipped.push(entry);
            if (this.skipped.length > MAX_SKIPPED) {
              this.skipped.shift();
              this.skippedOmitted += 1;
            }
          }
        }
      }
    }
  }

  /**
   * Files the group if all its filings are still queued, checked and written under the user's
   * filing lock: `Memory.deleteAll` (in any process) erases the user's filings under it, so
   * messages read before an erasure are either written before it (and erased by it) or not at all.
   * Undefined when some are gone.
   */
  private fileIfQueued(log: FilingState<FilableMessage>, group: FilingGroup): Promise<FilingOutcome | undefined> {
    return this.userLock(group.userId, async () => {
      if ((await log.queued(group.seqs)).length < group.seqs.length) return undefined;
      return group.messages.length === 0 ? { filed: 0, skipped: [] } : fileMessages(this.memory, group, this.importance);
    });
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
