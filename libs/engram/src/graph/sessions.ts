import type { BaseMessage } from "@langchain/core/messages";
import { RemoveMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { consolidateSession, type EndSessionOptions, type EndSessionResult } from "../consolidation/end_session.js";
import { describeValue } from "../core/describe.js";
import { EngramError } from "../core/errors.js";
import { scopeFromConfig } from "./config.js";
import { contextOf, withoutEngramContext } from "./echo.js";
import type { EngramContext } from "../turn/engram_context.js";
import { defaultWarningHandler, type GraphMemory, type WarningHandler } from "./types.js";

/** What ending a thread's session reports (`onSessionEnd`, `graph.endSession`). */
export interface SessionEnd extends EndSessionResult {
  userId: string;
  threadId: string;
  /** "explicit": `graph.endSession(config)`; "idle": the idle time passed. */
  reason: "explicit" | "idle";
}

/** The parts of a compiled graph a session end uses. */
export interface SessionGraph {
  getState(config: RunnableConfig): Promise<{ values: unknown }>;
  updateState(config: RunnableConfig, values: Record<string, unknown>, asNode?: string): Promise<unknown>;
}

export interface GraphSessionOptions extends Omit<EndSessionOptions, "onUsage"> {
  memory: Pick<GraphMemory, "add" | "usageHook">;
  /**
   * A thread with no run for this long (ms) has its session ended. @default undefined (only
   * `graph.endSession(config)` ends one)
   */
  idleMs?: number;
  /** Told each ended session. @default undefined */
  onSessionEnd?: (end: SessionEnd) => void;
  /** Where a failed idle end is reported. @default console.warn */
  onWarning?: WarningHandler;
}

interface ThreadState {
  messages?: BaseMessage[];
  summary?: string;
  procedures?: EngramContext["procedures"];
  recalled?: EngramContext["recalled"];
}

/**
 * Ends the sessions of a graph's threads: explicitly, or after `idleMs` without a run. The
 * window still in the thread's state is consolidated (`consolidateSession`: its important
 * exchanges stored as episodes, the whole window as a summary record), folded into the running
 * summary and removed from the state, as if it had left the window.
 *
 * Idle timers are `unref`ed (they never keep a process alive) and a failed idle end is a warning,
 * never an unhandled rejection.
 */
export class GraphSessions {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly warn: WarningHandler;

  constructor(
    private readonly graph: SessionGraph,
    private readonly options: GraphSessionOptions,
  ) {
    if (options.idleMs !== undefined && !(Number.isFinite(options.idleMs) && options.idleMs > 0)) {
      throw new EngramError("INVALID_OPTIONS", `idleMs must be a positive number of milliseconds, got ${describeValue(options.idleMs)}.`);
    }
    this.warn = options.onWarning ?? defaultWarningHandler;
  }

  /** A run of the thread starts: its idle timer stops. */
  runStarted(config: RunnableConfig | undefined): void {
    const key = threadKey(config);
    if (key === undefined) return;
    const timer = this.timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(key);
  }

  /** A run of the thread ended: its idle time starts. */
  runEnded(config: RunnableConfig | undefined): void {
    const key = threadKey(config);
    if (key === undefined || this.options.idleMs === undefined) return;
    this.runStarted(config);
    // The thread's latest state is read when the timer fires, not the checkpoint the run was given.
    const { checkpoint_id: _checkpoint, ...configurable } = (config?.configurable ?? {}) as Record<string, unknown>;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.end({ configurable }, "idle").catch((error: unknown) => {
        try {
          this.warn(`Ending the idle session failed (${(error as Error)?.message ?? error}); its window stays in the thread.`, error);
        } catch {
          // A warning handler that throws must not become an unhandled rejection.
        }
      });
    }, this.options.idleMs);
    timer.unref?.();
    this.timers.set(key, timer);
  }

  /** Stops every idle timer (no session is ended). */
  cancelIdle(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Ends the session of the config's thread now. */
  async end(config: RunnableConfig, reason: SessionEnd["reason"] = "explicit"): Promise<SessionEnd> {
    const scope = scopeFromConfig(config);
    if (scope.threadId === undefined) {
      throw new EngramError("INVALID_OPTIONS", "endSession needs the thread in config.configurable.thread_id.");
    }
    if (reason === "explicit") this.runStarted(config);
    let values: ThreadState;
    try {
      values = ((await this.graph.getState(config)).values ?? {}) as ThreadState;
    } catch (error) {
      throw new EngramError("INVALID_OPTIONS", `endSession reads the thread's window from the graph's checkpointer: ${(error as Error)?.message ?? error}`, { cause: error });
    }
    // What a model echoed of its prompt is not stored again (no memory of memory).
    const window = withoutEngramContext(values.messages ?? [], contextOf(values));
    const onUsage = this.options.summaryModel ? this.options.memory.usageHook?.("summary", scope.userId) : undefined;
    const result = await consolidateSession(this.options.memory, scope, window, values.summary ?? "", {
      ...this.options,
      ...(onUsage ? { onUsage } : {}),
    });
    const removed = (values.messages ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string");
    if (removed.length > 0) {
      await this.graph.updateState(config, { summary: result.summary, messages: removed.map((id) => new RemoveMessage({ id })) }, "consolidate");
    }
    const end: SessionEnd = { ...result, userId: scope.userId, threadId: scope.threadId, reason };
    this.options.onSessionEnd?.(end);
    return end;
  }
}

function threadKey(config: RunnableConfig | undefined): string | undefined {
  const configurable = (config?.configurable ?? {}) as Record<string, unknown>;
  const user = configurable.user_id;
  const thread = configurable.thread_id;
  if (user === undefined || user === null || thread === undefined || thread === null) return undefined;
  return JSON.stringify([String(user), String(thread), configurable.checkpoint_ns ?? ""]);
}
