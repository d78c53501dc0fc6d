import type { RunnableConfig } from "@langchain/core/runnables";
import { EngramError } from "../core/errors.js";
import { scopeFromRun } from "../turn/scope.js";
import type { EngramChannel } from "./state.js";

/** What each channel holds, for the error message. */
const SHAPES: Record<EngramChannel, { test: (value: unknown) => boolean; shape: string }> = {
  messages: { test: Array.isArray, shape: "BaseMessage[]" },
  summary: { test: (value) => typeof value === "string", shape: "string" },
  recalled: { test: Array.isArray, shape: "ScoredMemory[]" },
  procedures: { test: Array.isArray, shape: "MemoryRecord[]" },
  importance: { test: (value) => typeof value === "number", shape: "number" },
  turnsSinceForget: { test: (value) => typeof value === "number", shape: "number" },
  owner: { test: (value) => typeof value === "string", shape: "string" },
};

/**
 * A thread's window and running summary are one user's conversation: a run of another user on the
 * same thread id would put them in that user's prompt and file them into that user's memory. The
 * thread's `owner` channel names its user (a state without the channel is not checked).
 */
export function checkThreadOwner(state: unknown, userId: string, what: string): void {
  const owner = ((state ?? {}) as { owner?: unknown }).owner;
  if (typeof owner === "string" && owner !== "" && owner !== userId) {
    throw new EngramError(
      "INVALID_SCOPE",
      `${what}: this thread belongs to another user; give each user threads of their own (thread_id).`,
    );
  }
}

/**
 * {@link checkThreadOwner} for the nodes after `recall`. A run resumed where it stopped
 * (`Command({ resume })` after an `interrupt()`, `invoke(null)` after a crash) starts at the node
 * that was pending, not at `recall`: without this, another user's resume of the thread had the
 * model answer from the first user's window and filed that user's exchange into the other's
 * memory. A state without an owner (a graph without the channel, a thread before its first
 * `recall`) is not checked, and then the run's user is not required here.
 */
export function checkRunOwner(state: unknown, config: RunnableConfig | undefined, what: string): void {
  const owner = ((state ?? {}) as { owner?: unknown }).owner;
  if (typeof owner !== "string" || owner === "") return;
  checkThreadOwner(state, scopeFromRun(config, what).userId, what);
}

/** The update that records the run's user as the thread's owner, when the state has the channel. */
export function ownerUpdate(state: unknown, userId: string): { owner?: string } {
  return state !== null && typeof state === "object" && "owner" in state ? { owner: userId } : {};
}

/**
 * Refuses a state that lacks a channel a node reads or writes, naming it. LangGraph types a node
 * added with `addNode(name, node)` from the node alone, so a graph built on `MessagesAnnotation`
 * reaches Engram's nodes; without this check the score node fails deep inside with a bare
 * TypeError and the recall node's memories are silently dropped (LangGraph ignores a write to a
 * channel the graph does not have). Engram's channels all have defaults, so a graph that has them
 * always passes.
 */
export function requireChannels(state: unknown, node: string, channels: readonly EngramChannel[]): void {
  const record = (state ?? {}) as Record<string, unknown>;
  for (const channel of channels) {
    const { test, shape } = SHAPES[channel];
    if (test(record[channel])) continue;
    throw new EngramError(
      "MISSING_STATE_CHANNEL",
      `Engram's ${node} node needs the state channel "${channel}" (${shape}), which this graph's state ` +
        `${channel in record ? "holds with the wrong type" : "does not have"}. Build the graph on MemoryState, ` +
        "or merge Engram's channels into your state: new StateSchema({ messages: MessagesValue, ...engramStateFields }) " +
        "or Annotation.Root({ ...MessagesAnnotation.spec, ...EngramAnnotation.spec }).",
      { details: { channel, node } },
    );
  }
}
