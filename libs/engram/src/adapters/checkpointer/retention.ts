import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { EngramError } from "../../core/errors.js";
import type { WarningHandler } from "../../graph/types.js";
import { postgresSaverTarget, PostgresSaverPruner } from "./prune_postgres.js";
import { sqliteSaverDatabase, SqliteSaverPruner } from "./prune_sqlite.js";

/**
 * How long checkpoints are kept (`new EngramCheckpointer({ retention })`). Every field is off by
 * default: a checkpointer without `retention` deletes nothing but what `deleteThread` is asked to.
 */
export interface CheckpointRetention {
  /**
   * Checkpoints kept per thread (and per subgraph namespace of it), newest first; `prune()` deletes
   * the older ones. The newest checkpoint is always kept, and so is any checkpoint holding writes
   * that no later checkpoint consumed (a step in flight or failed: the run resumes from it). A
   * subgraph call's namespace whose checkpoints are all older than every root checkpoint kept (a
   * step of pruned history) is deleted whole; the history of a subgraph compiled with
   * `checkpointer: true` (its state across calls) keeps its newest N, as the root does.
   * @default off (every checkpoint kept)
   */
  keepLast?: number;
  /**
   * A thread whose newest checkpoint is older than this many milliseconds is deleted by `prune()`
   * (all its checkpoints and writes). Its messages stay in long-term memory: waiting filings are
   * done first, and the filing log keeps its users, so `deleteThread` can still erase them. Must
   * exceed the longest step of any run: a step still running that long would lose its thread.
   * @default off (threads never expire)
   */
  idleTtlMs?: number;
  /**
   * Runs `prune()` in the background every this many milliseconds, from the first `put()` until
   * `close()`. The timer does not keep the process alive; a failed sweep goes to `onWarning`.
   * @default off (prune only when `prune()` is called)
   */
  sweepEveryMs?: number;
}

/** What `prune()` deleted. */
export interface PruneResult {
  /** Checkpoints deleted beyond `keepLast`. */
  pruned: number;
  /** Threads deleted for being idle longer than `idleTtlMs`. */
  expired: string[];
}

/** A checkpoint `keepLast` deleted. */
export interface DoomedCheckpoint {
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
}

/** Retention SQL on one saver's own tables. */
export interface CheckpointPruner {
  readonly kind: "sqlite" | "postgres";
  /** Deletes the checkpoints of these threads beyond the newest `keep` per namespace, and finished subgraph namespaces (see above). */
  keepLast(threadIds: string[], keep: number): Promise<DoomedCheckpoint[]>;
  /** Threads with a namespace holding more than `keep` checkpoints, or a finished subgraph namespace, by id, after `after`. */
  crowdedThreads(keep: number, after: string | undefined, limit: number): Promise<string[]>;
  /** Threads whose newest checkpoint's `ts` is before `cutoff` (ISO), by id, after `after`. */
  idleThreads(cutoff: string, after: string | undefined, limit: number): Promise<string[]>;
  /** Deletes the thread if its newest checkpoint is still before `cutoff`; true when deleted. */
  expire(threadId: string, cutoff: string): Promise<boolean>;
}

/** Threads handled per query and transaction: short transactions leave runs unblocked. */
const THREADS_PER_BATCH = 100;

/** Longest timer delay Node takes (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** Checks `retention` before anything is stored; undefined when it asks for nothing. */
export function validateRetention(value: unknown): CheckpointRetention | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new EngramError("INVALID_OPTIONS", "retention must be an object: { keepLast?, idleTtlMs?, sweepEveryMs? }.");
  }
  const { keepLast, idleTtlMs, sweepEveryMs, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new EngramError("INVALID_OPTIONS", `retention has unknown option(s) ${unknown.join(", ")}; it takes keepLast, idleTtlMs and sweepEveryMs.`);
  }
  const positive = (name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
      throw new EngramError("INVALID_OPTIONS", `retention.${name} must be an integer from 1 to ${max}, got ${String(v)}.`);
    }
    return v;
  };
  const resolved: CheckpointRetention = {};
  const keep = positive("keepLast", keepLast);
  const ttl = positive("idleTtlMs", idleTtlMs);
  const every = positive("sweepEveryMs", sweepEveryMs, MAX_TIMER_MS);
  if (keep !== undefined) resolved.keepLast = keep;
  if (ttl !== undefined) resolved.idleTtlMs = ttl;
  if (every !== undefined) {
    if (keep === undefined && ttl === undefined) {
      throw new EngramError("INVALID_OPTIONS", "retention.sweepEveryMs needs keepLast or idleTtlMs: a sweep would have nothing to do.");
    }
    resolved.sweepEveryMs = every;
  }
  return resolved;
}

/**
 * The pruner for a saver whose tables Engram knows (`SqliteSaver`, `PostgresSaver`).
 * @throws EngramError `INVALID_OPTIONS` for any other saver.
 */
export function prunerFor(saver: BaseCheckpointSaver): CheckpointPruner {
  const db = sqliteSaverDatabase(saver);
  if (db) return new SqliteSaverPruner(db);
  const pg = postgresSaverTarget(saver);
  if (pg) return new PostgresSaverPruner(pg.pool, pg.schema);
  const name = (saver.constructor as { name?: string })?.name ?? "this saver";
  throw new EngramError(
    "INVALID_OPTIONS",
    `Checkpoint retention works over SqliteSaver and PostgresSaver; ${name} is neither (leave retention out, or prune it yourself).`,
  );
}

/** What {@link RetentionRunner} needs from the checkpointer. */
export interface RetentionHost {
  retention: CheckpointRetention;
  pruner: () => Promise<CheckpointPruner>;
  /** Files every waiting filing; throws the outage that stopped it (then nothing expires). */
  fileWaiting: () => Promise<void>;
  clock: () => number;
  warn: WarningHandler;
}

/** Runs `prune()` one at a time, and the optional background sweep. */
export class RetentionRunner {
  private running: Promise<PruneResult> | undefined;

  private timer: ReturnType<typeof setInterval> | undefined;

  private stopped = false;

  constructor(private readonly host: RetentionHost) {}

  /** Prunes now; a call during a prune waits for it and returns its result. */
  prune(): Promise<PruneResult> {
    if (!this.running) {
      this.running = this.pruneOnce().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Starts the background sweep, if configured (idempotent). */
  start(): void {
    const every = this.host.retention.sweepEveryMs;
    if (every === undefined || this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      // A failed sweep is a warning; the next one tries again. Never an unhandled rejection, also
      // when the app's warning handler itself throws (a logger whose stream is closed).
      this.prune().catch((error: unknown) => {
        try {
          this.host.warn(`checkpoint retention sweep failed: ${(error as Error)?.message ?? error}`, error);
        } catch {
          // The handler's own failure: nothing to report it to; the next sweep tries again.
        }
      });
    }, every);
    this.timer.unref();
  }

  /** Stops the sweep and waits for a prune in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async pruneOnce(): Promise<PruneResult> {
    const { keepLast, idleTtlMs } = this.host.retention;
    const result: PruneResult = { pruned: 0, expired: [] };
    if (keepLast === undefined && idleTtlMs === undefined) return result;
    const pruner = await this.host.pruner();
    if (keepLast !== undefined) {
      let after: string | undefined;
      for (;;) {
        const threads = await pruner.crowdedThreads(keepLast, after, THREADS_PER_BATCH);
        if (threads.length === 0) break;
        result.pruned += (await pruner.keepLast(threads, keepLast)).length;
        after = threads[threads.length - 1];
      }
    }
    if (idleTtlMs !== undefined) {
      const cutoff = new Date(this.host.clock() - idleTtlMs).toISOString();
      let after: string | undefined;
      let filed = false;
      for (;;) {
        const threads = await pruner.idleThreads(cutoff, after, THREADS_PER_BATCH);
        if (threads.length === 0) break;
        if (!filed) {
          // Their messages reach long-term memory before their checkpoints go.
          await this.host.fileWaiting();
          filed = true;
        }
        for (const threadId of threads) {
          if (await pruner.expire(threadId, cutoff)) result.expired.push(threadId);
        }
        after = threads[threads.length - 1];
      }
    }
    return result;
  }
}
