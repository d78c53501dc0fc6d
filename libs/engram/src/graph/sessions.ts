import type { BaseMessage } from "@langchain/core/messages";
import { RemoveMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { consolidateSession, type EndSessionOptions, type EndSessionResult } from "../consolidation/end_session.js";
import { isClosing, watchClose, type CloseWatcher } from "../memory/close_watch.js";
import { describeValue } from "../core/describe.js";
import { EngramError } from "../core/errors.js";
import { contextOf, withoutEngramContext } from "../turn/echo.js";
import type { EngramContext } from "../turn/engram_context.js";
import { scopeFromRun, userOfRun } from "../turn/scope.js";
import { defaultWarningHandler, type GraphMemory, type WarningHandler } from "./types.js";
import { checkThreadOwner } from "./channels.js";

/** What ending a thread's session reports (`onSessionEnd`, `graph.endSession`). */
export interface SessionEnd extends EndSessionResult {
  userId: string;
  threadId: string;
  /** "explicit": `graph.endSession(config)`; "idle": the idle time passed. */
  reason: "explicit" | "idle";
}

/** The parts of a compiled graph a session end uses. */
export interface SessionGraph {
  /** The thread's latest checkpoint; its `metadata.step` tells the idle end whether a run's last step is written. */
  getState(config: RunnableConfig): Promise<{ values: unknown; next?: readonly string[]; metadata?: { step?: number } }>;
  updateState(config: RunnableConfig, values: Record<string, unknown>, asNode?: string): Promise<unknown>;
  /** The thread's checkpoints, newest first: when each message of the window was said. Without it, the end's time. */
  getStateHistory?(config: RunnableConfig): AsyncIterableIterator<{ values: unknown; createdAt?: string }>;
}

export interface GraphSessionOptions extends Omit<EndSessionOptions, "onUsage" | "timeOf"> {
  /** With `now` (a `Memory` has it), turn times are read on the Memory's clock. */
  memory: Pick<GraphMemory, "add" | "usageHook"> & { now?(): number };
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
export class GraphSessions implements CloseWatcher {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly warn: WarningHandler;

  /**
   * @param graph the compiled graph whose threads it ends; a graph whose nodes need the sessions
   * before it is compiled (createMemoryGraph's) passes undefined and calls {@link attach}.
   */
  constructor(
    private graph: SessionGraph | undefined,
    private readonly options: GraphSessionOptions,
  ) {
    if (options.idleMs !== undefined && !(Number.isFinite(options.idleMs) && options.idleMs > 0)) {
      throw new EngramError("INVALID_OPTIONS", `idleMs must be a positive number of milliseconds, got ${describeValue(options.idleMs)}.`);
    }
    this.warn = options.onWarning ?? defaultWarningHandler;
    watchClose(options.memory, this);
  }

  /** Its Memory closed: no session can be ended any more, and a pending timer would only keep it. */
  memoryClosed(): void {
    this.cancelIdle();
  }

  /** The compiled graph whose threads it ends. */
  attach(graph: SessionGraph): void {
    this.graph = graph;
  }

  /** A run of the thread starts: its idle timer stops. A node's config is taken as its run's. */
  runStarted(config: RunnableConfig | undefined): void {
    const key = threadKey(config);
    if (key === undefined) return;
    const timer = this.timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(key);
  }

  /**
   * A run of the thread ended (its last node is done): its idle time starts. A node's config is
   * taken as its run's.
   */
  runEnded(config: RunnableConfig | undefined): void {
    const key = threadKey(config);
    if (key === undefined || this.options.idleMs === undefined) return;
    this.runStarted(config);
    // The thread's latest state is read when the timer fires, not the checkpoint the run was given.
    const configurable = runConfigurable(config);
    // A user named in the run's context (not in configurable) is kept for the end.
    const context = (config as { context?: unknown } | undefined)?.context;
    const run = { configurable, ...(context !== undefined ? { context } : {}) } as RunnableConfig;
    const idleMs = this.options.idleMs;
    // The timer starts in the run's last node, before LangGraph writes that step's checkpoint
    // (later still with durability "async", or a slow checkpointer): the end waits until the
    // thread's latest checkpoint is at least that step and has nothing left to run, or it would
    // read the window from an older checkpoint and race the run's own write. The wait is bounded in
    // time, not in tries, so a short idleMs on a loaded machine does not cut it short; a thread
    // left with nodes to run for longer than that (an interrupt, a crashed run) is ended then.
    const lastStep = (config?.metadata as { langgraph_step?: unknown } | undefined)?.langgraph_step;
    const patience = Math.max(MAX_DEFERRALS * idleMs, LAST_CHECKPOINT_WAIT_MS);
    const fire = async (firstFiredAt: number): Promise<void> => {
      this.timers.delete(key);
      const state = await this.session().getState(run);
      const step = state.metadata?.step;
      const written = typeof lastStep !== "number" || (typeof step === "number" && step >= lastStep);
      if ((!written || (state.next?.length ?? 0) > 0) && Date.now() - firstFiredAt < patience) {
        this.arm(key, () => fire(firstFiredAt), Math.min(idleMs, LAST_CHECKPOINT_POLL_MS));
        return;
      }
      await this.end(run, "idle");
    };
    this.arm(key, () => fire(Date.now()), idleMs);
  }

  private arm(key: string, task: () => Promise<void>, delay: number): void {
    if (isClosing(this.options.memory)) return;
    const timer = setTimeout(() => {
      task().catch((error: unknown) => {
        try {
          this.warn(`Ending the idle session failed (${(error as Error)?.message ?? error}); its window stays in the thread.`, error);
        } catch {
          // A warning handler that throws must not become an unhandled rejection.
        }
      });
    }, delay);
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
    const scope = scopeFromRun(config, "endSession");
    if (scope.threadId === undefined) {
      throw new EngramError("INVALID_OPTIONS", "endSession needs the thread in config.configurable.thread_id.");
    }
    if (reason === "explicit") this.runStarted(config);
    let values: ThreadState;
    try {
      values = ((await this.session().getState(config)).values ?? {}) as ThreadState;
    } catch (error) {
      throw new EngramError("INVALID_OPTIONS", `endSession reads the thread's window from the graph's checkpointer: ${(error as Error)?.message ?? error}`, { cause: error });
    }
    checkThreadOwner(values, scope.userId, "endSession");
    // What a model echoed of its prompt is not stored again (no memory of memory).
    const window = withoutEngramContext(values.messages ?? [], contextOf(values));
    const onUsage = this.options.summaryModel ? this.options.memory.usageHook?.("summary", scope.userId) : undefined;
    const times = await this.turnTimes(config, window);
    const result = await consolidateSession(this.options.memory, scope, window, values.summary ?? "", {
      ...this.options,
      ...(onUsage ? { onUsage } : {}),
      ...(times.size > 0 ? { timeOf: (message: BaseMessage) => (message.id === undefined ? undefined : times.get(message.id)) } : {}),
    });
    const removed = (values.messages ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string");
    if (removed.length > 0) {
      await this.session().updateState(config, { summary: result.summary, messages: removed.map((id) => new RemoveMessage({ id })) }, "consolidate");
    }
    const end: SessionEnd = { ...result, userId: scope.userId, threadId: scope.threadId, reason };
    this.options.onSessionEnd?.(end);
    return end;
  }

  /**
   * When each message of the window was said: the time of the thread's oldest checkpoint that holds
   * it (the run that brought it), so a late or idle end stores each turn at its own time. On the
   * Memory's clock: as long before its `now()` as the checkpoint is before the wall clock's now
   * (the same time with the default clock). The history is read back only as far as the window.
   */
  private async turnTimes(config: RunnableConfig, window: readonly BaseMessage[]): Promise<Map<string, number>> {
    const times = new Map<string, number>();
    const ids = new Set(window.map((m) => m.id).filter((id): id is string => typeof id === "string"));
    const history = this.session().getStateHistory;
    if (history === undefined || ids.size === 0) return times;
    const wall = Date.now();
    const now = this.options.memory.now?.() ?? wall;
    for await (const snapshot of history.call(this.session(), config)) {
      const created = snapshot.createdAt === undefined ? Number.NaN : Date.parse(snapshot.createdAt);
      let held = 0;
      for (const message of ((snapshot.values ?? {}) as ThreadState).messages ?? []) {
        if (message.id === undefined || !ids.has(message.id)) continue;
        held++;
        if (Number.isFinite(created)) times.set(message.id, now - Math.max(0, wall - created));
      }
      // Older checkpoints hold none of the window either.
      if (held === 0) break;
    }
    return times;
  }

  private session(): SessionGraph {
    if (this.graph === undefined) throw new EngramError("INVALID_OPTIONS", "GraphSessions has no graph: pass it to the constructor or attach().");
    return this.graph;
  }
}

/** idleMs periods the idle end waits for a run's last checkpoint before it ends the session anyway (at least LAST_CHECKPOINT_WAIT_MS). */
const MAX_DEFERRALS = 3;
/** The least time the idle end waits for a run's last checkpoint. */
const LAST_CHECKPOINT_WAIT_MS = 30_000;
/** How often it looks for that checkpoint meanwhile, at most. */
const LAST_CHECKPOINT_POLL_MS = 1_000;

/**
 * The run's own `configurable` from a run's or a node's config: LangGraph's internal keys, the
 * checkpoint id and the node's task namespace (the last `|` part of `checkpoint_ns`) left out.
 */
function runConfigurable(config: RunnableConfig | undefined): Record<string, unknown> {
  const configurable: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config?.configurable ?? {})) {
    if (key.startsWith("__") || key === "checkpoint_id" || key === "checkpoint_map") continue;
    configurable[key] = value;
  }
  if (typeof configurable.checkpoint_ns === "string") {
    const parts = configurable.checkpoint_ns.split("|");
    // In a node the namespace ends with the node's task ("recall:<id>"); the run's is what precedes it.
    if (config?.configurable?.__pregel_read !== undefined) parts.pop();
    configurable.checkpoint_ns = parts.join("|");
    if (configurable.checkpoint_ns === "") delete configurable.checkpoint_ns;
  }
  return configurable;
}

function threadKey(config: RunnableConfig | undefined): string | undefined {
  const configurable = runConfigurable(config);
  let user: unknown;
  try {
    user = userOfRun({ configurable, context: (config as { context?: unknown } | undefined)?.context });
  } catch {
    return undefined;
  }
  const thread = configurable.thread_id;
  if (user === undefined || thread === undefined || thread === null) return undefined;
  return JSON.stringify([String(user), String(thread), configurable.checkpoint_ns ?? ""]);
}
