/**
 * Work Memory schedules off the caller's path: fact extraction (durable jobs of the shared state)
 * and forgetting passes (one per user at a time).
 */
import type { MemoryRecord, Scope } from "../core/types.js";
import type { JobFailure } from "../consolidation/background.js";
import type { StateBackend } from "../state/types.js";
import { FactPipeline, forgetFactJobs, type FactPipelineInput } from "./facts.js";
import { UpkeepQueue } from "./upkeep.js";

export class Scheduling {
  /** Fact extraction and reconciliation; only with a chat model, started by `startExtraction`. */
  private facts?: FactPipeline;

  /** Forgetting passes started by `scheduleForget`, one per user at a time. */
  private readonly forgetting = new UpkeepQueue();

  /** Whether fact extraction runs (a chat model was given). */
  get extracting(): boolean {
    return this.facts !== undefined;
  }

  /** Starts fact extraction, and resumes the jobs an earlier process left (it crashed or closed first). */
  async startExtraction(input: FactPipelineInput): Promise<void> {
    this.facts = new FactPipeline(input);
    await this.facts.resume();
  }

  /**
   * Records the extraction job of freshly stored records (docs/facts.md). The job's time is when
   * the records were said (their `createdAt`), not the time of the add call.
   */
  async extract(scope: Scope, records: readonly MemoryRecord[]): Promise<void> {
    await this.facts?.submit(scope, records);
  }

  /**
   * Runs a forgetting pass of the user after the passes in flight; requests meanwhile with the same
   * `options` (scope and rules, as a string) fold into one.
   */
  scheduleForget(userId: string, pass: () => Promise<unknown>, onError: (error: unknown) => void, options = ""): void {
    this.forgetting.request(userId, pass, onError, options);
  }

  /** Runs waiting extraction now and waits for it and for forgetting passes; returns extraction's failures. */
  async flush(): Promise<JobFailure[]> {
    const failures = (await this.facts?.flush()) ?? [];
    await this.forgetting.idle();
    return failures;
  }

  /** Resolves when no forgetting pass runs or waits. */
  idle(): Promise<void> {
    return this.forgetting.idle();
  }

  /**
   * Erases the user's waiting extraction jobs (a run in flight settles without writing), here and in
   * the shared state. Returns how many were dropped.
   */
  forgetUser(state: StateBackend, userId: string): Promise<number> {
    return forgetFactJobs(this.facts, state, userId);
  }

  /** Aborts extraction in flight; its jobs stay queued and resume on the next open. */
  async close(): Promise<void> {
    await this.facts?.close();
  }
}
