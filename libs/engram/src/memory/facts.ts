/** Semantic memory: extraction jobs that turn stored exchanges into facts and reconcile them. */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { EngramError } from "../core/errors.js";
import { deterministicId } from "../core/ids.js";
import type { MemoryKind, MemoryRecord, MemorySource, Scope } from "../core/types.js";
import type { UsageHook } from "../core/token_usage.js";
import { BackgroundQueue, resolveBackgroundOptions, type BackgroundOptions, type JobFailure, type RunContext } from "../consolidation/background.js";
import { extractFacts, type ExchangeMessage } from "../consolidation/extract.js";
import { reconcileFacts } from "../consolidation/reconcile.js";
import { isCurrent } from "../consolidation/validity.js";
import type { Job, StateBackend } from "../state/types.js";
import type { EpisodicStore } from "../store/types.js";
import type { WriteOp } from "./writer.js";
import { planFactWrites } from "./facts_plan.js";
import { describeValue } from "../core/describe.js";

/** Options of fact extraction (`new Memory({ model, facts })`). */
export interface FactOptions extends BackgroundOptions {
  /**
   * Extract facts off the hot path: `add` returns once the exchange is stored and the extraction
   * job recorded, and the model calls run in the background (`flush()` waits for them). `false`
   * runs them inside `add`, which then returns when the facts are written, as mem0's `add` does.
   * @default true
   */
  background?: boolean;
  /** Nearest stored facts shown to the model for each new fact. @default 5 */
  neighbours?: number;
  /**
   * Longest one model call of a job (extraction or reconciliation) may take, in ms. Past it the
   * call is abandoned and the job fails, to be retried as any failure is: a provider that never
   * answers would otherwise hold the user's extraction lock for ever, and with it that user's
   * extraction and `deleteAll` in every process on the state. @default 120000
   */
  timeoutMs?: number;
}

/** An extraction job as recorded in the job table: everything needed to run it after a crash. */
export interface FactJobPayload {
  scope: Scope;
  messages: ExchangeMessage[];
  /** When the exchange was added (ms since epoch): the facts' `validFrom`. */
  at: number;
  source: MemorySource;
}

/** What the pipeline needs from `Memory` (its composition root). */
export interface FactPipelineInput {
  model: BaseChatModel;
  /** The shared state: the job queue and the per-user lock of reconciliation. */
  state: StateBackend;
  store: EpisodicStore;
  /** Writes through the outbox and waits for the store (the write policy, memory/write_policy.ts). */
  write(userId: string, ops: WriteOp[]): Promise<boolean>;
  /**
   * Applies the user's queued writes to the store (`writes: "background"` leaves a delete or an
   * update queued for a moment), so the store read that plans a job's changes is current.
   */
  settle(userId: string): Promise<void>;
  embed(texts: string[]): Promise<number[][]>;
  /** The user's currently valid facts nearest to `text`, best first (Memory.search, kind fact). */
  nearest(scope: Scope, text: string, limit: number): Promise<MemoryRecord[]>;
  clock: () => number;
  /** Also tag each fact's entities offline (the model's own list is always kept). */
  offlineEntities: boolean;
  options?: FactOptions;
  /** Where each model call's tokens go (`memory.usage()`). */
  usage?: (kind: "extraction" | "reconciliation", userId: string) => UsageHook;
}

/** The job queue's name in the shared job table. */
const QUEUE = "facts";

/**
 * Most jobs (stored exchanges) of a thread one extraction run takes, and most characters of
 * their messages (a run takes one job however long it is). A burst of turns, a history imported
 * turn by turn, used to be one prompt: a faithful model then answered with more facts than one
 * reply may hold (50) and the whole burst was refused, its facts dropped. Ten exchanges rarely
 * give fifty facts, and keep the prompt far within any model's context.
 */
const MAX_BATCH_JOBS = 10;
const MAX_BATCH_CHARS = 20_000;

/** Most facts a reconciliation's search looks through for a job's own nearest (search's own limit). */
const MAX_NEAREST = 1_000;

/** How many of a thread's queued jobs, oldest first, one run takes. */
function batchSize(jobs: ReadonlyArray<Job<FactJobPayload>>): number {
  let chars = 0;
  let taken = 0;
  for (const job of jobs.slice(0, MAX_BATCH_JOBS)) {
    chars += job.payload.messages.reduce((sum, message) => sum + message.text.length, 0);
    if (taken > 0 && chars > MAX_BATCH_CHARS) break;
    taken += 1;
  }
  return taken;
}

/** Fact options with defaults applied; `INVALID_OPTIONS` for a bad value (checked when Memory is made). */
export function resolveFactOptions(options: FactOptions = {}): Required<FactOptions> {
  const { background = true, neighbours = 5, timeoutMs = 120_000, ...queueOptions } = options;
  if (typeof background !== "boolean") throw new EngramError("INVALID_OPTIONS", "facts.background must be a boolean.");
  if (!Number.isInteger(neighbours) || neighbours < 1 || neighbours > 50) {
    throw new EngramError("INVALID_OPTIONS", `facts.neighbours must be an integer from 1 to 50, got ${describeValue(neighbours)}.`);
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 3_600_000) {
    throw new EngramError("INVALID_OPTIONS", `facts.timeoutMs must be an integer from 1 to 3600000 (one hour), got ${describeValue(timeoutMs)}.`);
  }
  return { background, neighbours, timeoutMs, ...resolveBackgroundOptions(queueOptions) };
}

/**
 * `add`'s `infer`: whether to extract facts from this call. Defaults to true when a chat model is
 * configured and the memory is an episode (an exchange), false otherwise; `true` without a model
 * is refused before anything is written.
 */
export function resolveInfer(value: unknown, kind: MemoryKind, hasModel: boolean): boolean {
  if (value === undefined) return hasModel && kind === "episode";
  if (typeof value !== "boolean") throw new EngramError("INVALID_OPTIONS", `infer must be a boolean, got ${describeValue(value)}.`);
  if (value && !hasModel) {
    throw new EngramError("INVALID_OPTIONS", "infer: true needs a chat model to extract facts: new Memory({ model }).");
  }
  return value;
}

/**
 * Semantic memory: turns stored exchanges into facts, kept true as they change. For each job
 * (one or more exchanges of a thread): extract facts (one model call), find each fact's nearest
 * current facts of the same user, decide ADD / UPDATE / INVALIDATE / NONE for the batch (one model
 * call), then write all changes through the outbox in one transaction. Facts belong to the user
 * (and agent), not to the thread they were said in.
 */
export class FactPipeline {
  private readonly queue: BackgroundQueue<FactJobPayload>;

  private readonly background: boolean;

  private readonly neighbours: number;

  /** Longest one model call may take (FactOptions.timeoutMs). */
  private readonly timeoutMs: number;

  constructor(private readonly input: FactPipelineInput) {
    const { background, neighbours, timeoutMs, ...queueOptions } = resolveFactOptions(input.options);
    this.background = background;
    this.neighbours = neighbours;
    this.timeoutMs = timeoutMs;
    this.queue = new BackgroundQueue<FactJobPayload>({
      table: input.state.jobs<FactJobPayload>(QUEUE),
      // One reconciliation of a user's facts at a time, across every process on the state: two
      // runs side by side could both add the same fact. A run that waited may find some of its
      // jobs done by the run it waited for; it runs the others (skipping them all, as it did, then
      // completing them, lost the exchanges queued after that run had read its jobs).
      handler: (jobs, context) =>
        whileLocked(input.state, jobs[0]!.userId, context.signal, async () => {
          const left = await context.narrow();
          if (left.length === 0) return;
          await this.run(left, context);
          // Inside the lock: the next holder's narrow() must find these done, or it runs them again.
          await context.complete();
        }),
      options: queueOptions,
      batch: batchSize,
      onFailure: (failure) => {
        // A dropped job is lost for good: say so even when nobody calls flush().
        if (failure.dropped && this.background) {
          process.emitWarning(`Engram dropped a fact extraction job of one user: ${failure.error.message}`, { code: "ENGRAM_EXTRACTION_DROPPED" });
        }
      },
    });
  }

  /** Picks up the jobs an earlier process left (crash or close before they ran). */
  resume(): Promise<void> {
    return this.queue.resume();
  }

  /**
   * Records the extraction job for freshly stored records (durably, before any model call). In
   * the background mode it returns at once; otherwise it runs the job and throws its failure.
   * The job's time (its facts' `validFrom`, the extraction's "today") is when the records were
   * said: the first one's `createdAt`, which `add` and each of `addMany`'s items set from their
   * `createdAt` option; not the time of the call, which imports an old conversation.
   */
  async submit(scope: Scope, records: readonly MemoryRecord[]): Promise<void> {
    if (records.length === 0) return;
    const at = Math.min(...records.map((record) => record.createdAt));
    const messageIds = records.flatMap((record) => record.source.messageIds ?? []);
    const source: MemorySource = {};
    if (scope.threadId !== undefined) source.threadId = scope.threadId;
    if (messageIds.length > 0) source.messageIds = messageIds;
    const group = JSON.stringify([scope.agentId ?? null, scope.threadId ?? null]);
    await this.queue.submit({
      userId: scope.userId,
      group,
      // The same records give the same job: a replay while it waits does not queue it twice.
      key: deterministicId("facts", ...records.map((record) => record.id)),
      payload: { scope: { ...scope }, messages: records.map((record) => toMessage(record)), at, source },
    });
    if (this.background) return;
    const [failure] = await this.queue.runNow(scope.userId, group);
    if (failure) throw failure.error;
  }

  /** Runs every waiting job now and waits; returns the failures. */
  flush(): Promise<JobFailure[]> {
    return this.queue.flush();
  }

  pending(userId?: string): Promise<number> {
    return this.queue.pending(userId);
  }

  /** Drops the user's waiting jobs; a run in flight for them writes nothing. */
  forgetUser(userId: string): Promise<number> {
    return this.queue.forgetUser(userId);
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  private async run(jobs: Array<Job<FactJobPayload>>, context: RunContext<FactJobPayload>): Promise<void> {
    const { model } = this.input;
    const first = jobs[0]!.payload;
    const scope: Scope = { userId: first.scope.userId };
    if (first.scope.agentId !== undefined) scope.agentId = first.scope.agentId;
    const at = Math.max(...jobs.map((job) => job.payload.at));
    const source = mergeSources(jobs.map((job) => job.payload.source));
    const usage = this.input.usage;
    // Each model call may take timeoutMs at most; closing or an erasure aborts it sooner.
    const callSignal = () => AbortSignal.any([context.signal, AbortSignal.timeout(this.timeoutMs)]);
    const facts = await extractFacts({
      model,
      messages: jobs.flatMap((job) => job.payload.messages),
      at,
      signal: callSignal(),
      ...(usage ? { onUsage: usage("extraction", scope.userId) } : {}),
    });
    if (facts.length === 0) return;
    const now = this.input.clock();
    const current = await Promise.all(facts.map((fact) => this.nearestOwn(scope, fact.text, now)));
    const decisions = await reconcileFacts({
      model,
      facts: facts.map((fact, i) => ({ text: fact.text, neighbours: current[i]!.map((record) => ({ id: record.id, content: record.content })) })),
      signal: callSignal(),
      ...(usage ? { onUsage: usage("reconciliation", scope.userId) } : {}),
    });
    // What the model was shown of each stored fact: a decision about a fact changed since is void.
    const shown = new Map(current.flat().map((record) => [record.id, record.content]));
    await this.input.settle(scope.userId);
    const { store, embed, offlineEntities } = this.input;
    const ops = await planFactWrites({ store, embed, offlineEntities }, scope, facts, decisions, { at, now, source, jobKey: jobs[0]!.key, shown });
    context.signal.throwIfAborted();
    // An erasure that starts after this check waits for this run to settle, then drops what it wrote.
    if (ops.length === 0 || !(await context.stillQueued())) return;
    // An outage leaves the facts queued in the outbox; a refusal fails this job.
    await this.input.write(scope.userId, ops);
  }

  /**
   * The job's own current facts nearest to `text`, at most `neighbours`. A search without an agent
   * returns every agent's facts, and a job's facts are of its agent alone: the other agents' are
   * dropped, and the search looks further (up to MAX_NEAREST) while they crowd out the job's own.
   */
  private async nearestOwn(scope: Scope, text: string, now: number): Promise<MemoryRecord[]> {
    for (let limit = this.neighbours; ; limit = Math.min(limit * 4, MAX_NEAREST)) {
      const found = await this.input.nearest(scope, text, limit);
      const own = found.filter((record) => record.kind === "fact" && isCurrent(record, now) && record.scope.agentId === scope.agentId);
      if (own.length >= this.neighbours || found.length < limit || limit >= MAX_NEAREST) return own.slice(0, this.neighbours);
    }
  }
}

/**
 * Runs `task` holding the user's "facts" lock. Closing (`signal`; an erasure of the user aborts it
 * too) while the lock is still awaited stops the wait: another process's run may hold it for as
 * long as its model takes, and close() waited for that run too (for ever, behind a model that
 * never answers). The jobs stay queued; the abandoned wait, if it still gets the lock, lets it go
 * at once. Once the task has the lock, closing aborts its model calls and waits for it, as before.
 */
function whileLocked(state: StateBackend, userId: string, signal: AbortSignal, task: () => Promise<void>): Promise<void> {
  let started = false;
  const held = signal.aborted
    ? Promise.resolve()
    : state.leases.exclusive(userId, QUEUE, async () => {
        if (signal.aborted) return;
        started = true;
        await task();
      });
  return new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      if (!started) reject(new EngramError("CLOSED", "Stopped (closed, or the user erased) while waiting for another run of this user's fact extraction."));
    };
    if (signal.aborted) stop();
    signal.addEventListener("abort", stop, { once: true });
    held.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}

/**
 * Erases a user's waiting extraction jobs: through the pipeline when there is one (a run in flight
 * then settles without writing), else straight from the job table (jobs an earlier process with a
 * model left behind). Returns how many were dropped.
 */
export async function forgetFactJobs(pipeline: FactPipeline | undefined, state: StateBackend, userId: string): Promise<number> {
  const dropped = pipeline ? await pipeline.forgetUser(userId) : 0;
  // Another process's run of the user holds the lock: the erasure waits for it, then drops what
  // was queued meanwhile (the run's writes are in the outbox or the store, erased next).
  return dropped + (await state.leases.exclusive(userId, QUEUE, () => state.jobs<FactJobPayload>(QUEUE).deleteUser(userId)));
}

function toMessage(record: MemoryRecord): ExchangeMessage {
  return record.role === undefined ? { text: record.content } : { role: record.role, text: record.content };
}

function mergeSources(sources: readonly MemorySource[]): MemorySource {
  const merged: MemorySource = {};
  const threadId = sources.find((source) => source.threadId !== undefined)?.threadId;
  if (threadId !== undefined) merged.threadId = threadId;
  const messageIds = [...new Set(sources.flatMap((source) => source.messageIds ?? []))];
  if (messageIds.length > 0) merged.messageIds = messageIds;
  return merged;
}
