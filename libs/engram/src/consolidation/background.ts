/** Runs durable background jobs (fact extraction) off the caller's path, from a queue of the shared state. */
import { EngramError, isEngramError } from "../core/errors.js";
import type { Job, JobState, NewJob } from "../state/types.js";
import { describeValue } from "../core/describe.js";

/** Options of the background queue. */
export interface BackgroundOptions {
  /**
   * Wait this long after a group's (a thread's) latest job before running it, so that a burst of
   * turns is handled in one run (LangMem's reflection executor debounces the same way).
   * @default 1000
   */
  debounceMs?: number;
  /** Most groups running at once (one user's groups never run at the same time). @default 2 */
  concurrency?: number;
  /**
   * Failed runs of a job before it stops being retried on its own; it stays queued for `flush()`
   * or the next open. A refusal (bad model output) is not retried: the job is dropped and reported.
   * @default 3
   */
  maxAttempts?: number;
  /** Delay before the first automatic retry; doubled for each further one. @default 2000 */
  retryDelayMs?: number;
}

export type ResolvedBackgroundOptions = Required<BackgroundOptions>;

export function resolveBackgroundOptions(options: BackgroundOptions = {}): ResolvedBackgroundOptions {
  const resolved = {
    debounceMs: options.debounceMs ?? 1_000,
    concurrency: options.concurrency ?? 2,
    maxAttempts: options.maxAttempts ?? 3,
    retryDelayMs: options.retryDelayMs ?? 2_000,
  };
  for (const [name, value] of Object.entries(resolved)) {
    const positive = name === "concurrency" || name === "maxAttempts";
    if (typeof value !== "number" || !Number.isInteger(value) || value < (positive ? 1 : 0)) {
      throw new EngramError("INVALID_OPTIONS", `${name} must be an integer of ${positive ? 1 : 0} or more, got ${describeValue(value)}.`);
    }
  }
  return resolved;
}

/** What a run of one group's jobs gets besides the jobs. */
export interface RunContext<T = unknown> {
  /** Aborted when the queue closes or the user is erased: stop calling models, write nothing. */
  signal: AbortSignal;
  /**
   * True while the run's jobs (as `narrow` left them) are still queued. Check it right before
   * writing: false means the user was erased meanwhile, and nothing may be written (an erasure
   * waits for a run in flight to settle, so one that starts after the check comes after the write).
   */
  stillQueued(): Promise<boolean>;
  /**
   * The run's jobs that are still queued, which the run is then about. The jobs were read before
   * the handler waited for anything (another process's run of the user holds the user's lock):
   * that run may have done some of them meanwhile, and the others, queued since, are this run's to
   * do. Empty when none is left (done elsewhere, or the user was erased).
   */
  narrow(): Promise<Array<Job<T>>>;
  /**
   * Completes the run's jobs (as `narrow` left them) now, not after the handler returns. A handler
   * that holds a lock shared with other processes calls it before letting the lock go: completed
   * after, the next holder's `narrow()` still found them queued and did them again.
   */
  complete(): Promise<void>;
}

/** Runs the queued jobs of one group (oldest first). Throwing leaves them queued (or drops a refusal). */
export type JobHandler<T> = (jobs: Array<Job<T>>, context: RunContext<T>) => Promise<void>;

/** A failed run, as `flush()` reports it. */
export interface JobFailure {
  userId: string;
  group: string;
  error: EngramError;
  /** True when the jobs were dropped (a refusal, or the queue gave up), false when they stay queued. */
  dropped: boolean;
}

export interface BackgroundQueueInput<T> {
  table: JobState<T>;
  handler: JobHandler<T>;
  options?: BackgroundOptions;
  /** Errors that retrying cannot fix; their jobs are dropped. @default MODEL_OUTPUT_INVALID and input errors */
  isPermanent?: (error: EngramError) => boolean;
  /** Told of every failed run as it happens (no caller waits on a background job). */
  onFailure?: (failure: JobFailure) => void;
  /**
   * How many of a group's queued jobs (oldest first) one run takes; the rest run next, in runs of
   * their own. At least one is taken. @default all of them
   */
  batch?: (jobs: ReadonlyArray<Job<T>>) => number;
}

interface GroupRef {
  userId: string;
  group: string;
}

const PERMANENT = new Set(["MODEL_OUTPUT_INVALID", "INVALID_CONTENT", "CONTENT_TOO_LARGE", "INVALID_METADATA", "INVALID_OPTIONS"]);

/** Failures kept for `flush()` to report; older ones are dropped past this many. */
const MAX_KEPT_FAILURES = 100;

/**
 * Runs durable jobs off the caller's path: `submit` records the job in the state and returns at
 * once; the job runs after its group has been quiet for `debounceMs`, at most `concurrency`
 * groups at a time and one run per user at a time (so two runs never reconcile the same user's
 * memory against each other). Jobs submitted to a group while it waits run together. A failure
 * leaves the jobs queued and retries later with a growing delay; `resume()` (on open) picks up
 * what an earlier process left, `flush()` runs everything now and waits for it.
 */
export class BackgroundQueue<T> {
  private readonly table: JobState<T>;

  private readonly handler: JobHandler<T>;

  private readonly options: ResolvedBackgroundOptions;

  private readonly isPermanent: (error: EngramError) => boolean;

  private readonly onFailure?: (failure: JobFailure) => void;

  private readonly batch: (jobs: ReadonlyArray<Job<T>>) => number;

  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** Groups due to run, in the order they became due. */
  private readonly due = new Map<string, GroupRef>();

  /** Runs in flight, each with what aborts it (closing, or an erasure of its user). */
  private readonly running = new Map<string, { ref: GroupRef; done: Promise<void>; stop: AbortController }>();

  private readonly busyUsers = new Set<string>();

  private readonly waiters = new Set<() => void>();

  private readonly failures: JobFailure[] = [];

  /**
   * Groups being swept by `flush()` or `resume()`, with the jobs run since the sweep began: a
   * sweep runs every job of the group once, failed and parked ones included, each failed one alone.
   */
  private readonly sweeps = new Map<string, Set<number>>();

  private failureCount = 0;

  private closed = false;

  constructor(input: BackgroundQueueInput<T>) {
    this.table = input.table;
    this.handler = input.handler;
    this.options = resolveBackgroundOptions(input.options);
    this.isPermanent = input.isPermanent ?? ((error) => PERMANENT.has(error.code));
    this.onFailure = input.onFailure;
    this.batch = input.batch ?? ((jobs) => jobs.length);
  }

  /** Records a job durably and schedules its group; false when the same job is already queued. */
  async submit(job: NewJob<T>): Promise<boolean> {
    this.assertOpen();
    const added = await this.table.add(job);
    this.schedule({ userId: job.userId, group: job.group }, this.options.debounceMs);
    return added;
  }

  /** Schedules every queued group to run now (what an earlier process left behind). */
  async resume(): Promise<void> {
    this.assertOpen();
    for (const ref of await this.table.groups()) this.sweep(ref);
  }

  /**
   * Runs every queued job now (debounce skipped, parked jobs retried) and waits until they are
   * done; returns the failures of the runs it waited for.
   */
  async flush(): Promise<JobFailure[]> {
    this.assertOpen();
    const from = this.failureCount;
    for (const ref of await this.table.groups()) this.sweep(ref);
    await this.until(() => this.due.size === 0 && this.running.size === 0);
    return this.failuresSince(from);
  }

  /** Runs one group now and waits for it: the synchronous (mem0-style) path. */
  async runNow(userId: string, group: string): Promise<JobFailure[]> {
    this.assertOpen();
    const from = this.failureCount;
    const key = keyOf({ userId, group });
    this.schedule({ userId, group }, 0);
    await this.until(() => !this.due.has(key) && !this.running.has(key));
    return this.failuresSince(from).filter((failure) => failure.userId === userId && failure.group === group);
  }

  /** Jobs queued, for one user or all. */
  pending(userId?: string): Promise<number> {
    return this.table.size(userId);
  }

  /**
   * Erases a user's queued jobs, aborts a run of theirs in flight and waits for it to settle (it
   * sees its jobs gone and writes nothing; a model call, which may take minutes, is not waited
   * for). Returns how many jobs were dropped.
   */
  async forgetUser(userId: string): Promise<number> {
    const dropped = await this.table.deleteUser(userId);
    for (const [key, ref] of this.due) if (ref.userId === userId) this.due.delete(key);
    for (const [key, timer] of this.timers) {
      if (parseKey(key).userId !== userId) continue;
      clearTimeout(timer);
      this.timers.delete(key);
    }
    for (const key of this.sweeps.keys()) if (parseKey(key).userId === userId) this.sweeps.delete(key);
    for (const run of this.running.values()) if (run.ref.userId === userId) run.stop.abort();
    await this.until(() => ![...this.running.values()].some((run) => run.ref.userId === userId));
    return dropped;
  }

  /** Stops scheduling, aborts runs in flight and waits for them; queued jobs stay for the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.due.clear();
    this.sweeps.clear();
    for (const run of this.running.values()) run.stop.abort();
    await Promise.allSettled([...this.running.values()].map((run) => run.done));
    this.notify();
  }

  /** Runs every job of the group now, once each (see `sweeps`). */
  private sweep(ref: GroupRef): void {
    this.sweeps.set(keyOf(ref), new Set());
    this.schedule(ref, 0);
  }

  /**
   * The jobs a run of the group takes: its fresh jobs (never run), oldest first, as many as
   * `batch` says; without any, one job that failed before, alone, the least tried first (in a
   * sweep, one not yet run in it; else one not parked). A failed job used to be retried in one
   * batch with the group's later jobs: one the model cannot take (a prompt its content filter
   * refuses, one too long for it) failed every batch it was in, and the group's later jobs never
   * ran, for good.
   */
  private pick(key: string, queued: ReadonlyArray<Job<T>>): Array<Job<T>> {
    const fresh = queued.filter((job) => job.attempts === 0);
    if (fresh.length > 0) return fresh.slice(0, Math.max(1, Math.floor(this.batch(fresh))));
    const swept = this.sweeps.get(key);
    const [retried] = queued
      .filter((job) => (swept ? !swept.has(job.seq) : job.attempts < this.options.maxAttempts))
      .sort((a, b) => a.attempts - b.attempts || a.seq - b.seq);
    return retried ? [retried] : [];
  }

  /**
   * Schedules the group's next run after one: at once while fresh jobs (or, in a sweep, jobs not
   * yet run in it) are left, else when the least tried failed job is due for a retry, if any is
   * not parked. `left` are the jobs still queued, with their attempts as they are now.
   */
  private following(ref: GroupRef, left: ReadonlyArray<Job<T>>): void {
    const key = keyOf(ref);
    const swept = this.sweeps.get(key);
    if (left.some((job) => job.attempts === 0 || (swept !== undefined && !swept.has(job.seq)))) {
      this.schedule(ref, 0);
      return;
    }
    this.sweeps.delete(key);
    const retry = left.filter((job) => job.attempts < this.options.maxAttempts).map((job) => job.attempts);
    if (retry.length > 0) this.schedule(ref, this.options.retryDelayMs * 2 ** (Math.min(...retry) - 1));
  }

  private schedule(ref: GroupRef, delayMs: number): void {
    if (this.closed) return;
    const key = keyOf(ref);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (delayMs <= 0) {
      this.due.set(key, ref);
      this.pump();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.due.set(key, ref);
      this.pump();
    }, delayMs);
    // A pending debounce must not keep the process alive: the job is on disk and resumes on open.
    timer.unref();
    this.timers.set(key, timer);
  }

  private pump(): void {
    for (const [key, ref] of this.due) {
      if (this.closed || this.running.size >= this.options.concurrency) break;
      if (this.busyUsers.has(ref.userId) || this.running.has(key)) continue;
      this.due.delete(key);
      this.busyUsers.add(ref.userId);
      const stop = new AbortController();
      const done = this.run(ref, stop.signal).finally(() => {
        this.busyUsers.delete(ref.userId);
        this.running.delete(key);
        this.pump();
        this.notify();
      });
      this.running.set(key, { ref, done, stop });
    }
    this.notify();
  }

  private async run(ref: GroupRef, signal: AbortSignal): Promise<void> {
    let queued: Array<Job<T>>;
    try {
      queued = await this.table.pending(ref);
    } catch (error) {
      this.sweeps.delete(keyOf(ref));
      this.record({ ...ref, error: asEngramError(error), dropped: false });
      return;
    }
    const key = keyOf(ref);
    const jobs = this.pick(key, queued);
    if (jobs.length === 0) {
      this.sweeps.delete(key);
      return;
    }
    const seqs = jobs.map((job) => job.seq);
    for (const seq of seqs) this.sweeps.get(key)?.add(seq);
    // The jobs left run once this run is done (pump() holds a group while it runs); `failed`: this
    // run's jobs stay queued, each tried once more.
    const next = (failed: boolean): void => {
      const others = queued.filter((job) => !seqs.includes(job.seq));
      this.following(ref, failed ? [...others, ...jobs.map((job) => ({ ...job, attempts: job.attempts + 1 }))] : others);
    };
    // What stillQueued checks: the jobs read, or those of them narrow() found still queued.
    let live = seqs;
    const context: RunContext<T> = {
      signal,
      stillQueued: async () => live.length > 0 && (await this.table.allQueued(live)),
      narrow: async () => {
        const queuedNow = new Set((await this.table.pending(ref)).map((job) => job.seq));
        const left = jobs.filter((job) => queuedNow.has(job.seq));
        live = left.map((job) => job.seq);
        return left;
      },
      // The queue completes every job it read once the handler returns; completing twice is a no-op.
      complete: () => this.table.complete(live),
    };
    try {
      await this.handler(jobs, context);
      await this.table.complete(seqs);
      next(false);
    } catch (thrown) {
      // Closing aborts the run on purpose: the jobs stay queued, untouched, for the next open. An
      // erasure of the user aborts it too: its jobs are gone, and nothing failed.
      if (this.closed || signal.aborted) {
        this.sweeps.delete(key);
        return;
      }
      const error = asEngramError(thrown);
      if (this.isPermanent(error)) {
        await this.table.complete(seqs).catch(() => undefined);
        this.record({ ...ref, error, dropped: true });
        next(false);
        return;
      }
      await this.table.fail(seqs, error.message).catch(() => undefined);
      this.record({ ...ref, error, dropped: false });
      next(true);
    }
  }

  private record(failure: JobFailure): void {
    this.failures.push(failure);
    this.failureCount += 1;
    if (this.failures.length > MAX_KEPT_FAILURES) this.failures.shift();
    this.onFailure?.(failure);
  }

  private failuresSince(count: number): JobFailure[] {
    const newer = this.failureCount - count;
    return newer <= 0 ? [] : this.failures.slice(-Math.min(newer, this.failures.length));
  }

  private until(condition: () => boolean): Promise<void> {
    if (condition() || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!condition() && !this.closed) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private assertOpen(): void {
    if (this.closed) throw new EngramError("CLOSED", "This background queue was closed.");
  }
}

function keyOf(ref: GroupRef): string {
  return JSON.stringify([ref.userId, ref.group]);
}

function parseKey(key: string): GroupRef {
  const [userId, group] = JSON.parse(key) as [string, string];
  return { userId, group };
}

function asEngramError(error: unknown): EngramError {
  if (isEngramError(error)) return error;
  return new EngramError("MODEL_ERROR", `Background job failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
