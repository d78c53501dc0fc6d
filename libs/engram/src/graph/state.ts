import type { BaseMessage } from "@langchain/core/messages";
import { Annotation, messagesStateReducer, type Messages } from "@langchain/langgraph";
import type { MemoryRecord, ScoredMemory } from "../core/types.js";

/**
 * The memory graph's state. `messages` is the working memory (the window plus the turn in
 * progress; consolidation removes what leaves the window); everything else is rebuilt each turn
 * except `summary` and `turnsSinceForget`, which carry over in the thread's checkpoints.
 */
export const MemoryState = Annotation.Root({
  /** The conversation. Appends and `RemoveMessage`s merge by id, as in `MessagesAnnotation`. */
  messages: Annotation<BaseMessage[], Messages>({
    reducer: messagesStateReducer,
    default: () => [],
  }),
  /** Running summary of the turns that left the window ("" until the first eviction). */
  summary: Annotation<string>({ reducer: (_, next) => next, default: () => "" }),
  /** Long-term memories recalled for the current turn, best first. */
  recalled: Annotation<ScoredMemory[]>({ reducer: (_, next) => next, default: () => [] }),
  /** The user's procedural memory (core blocks and learned instructions), read each turn. */
  procedures: Annotation<MemoryRecord[]>({ reducer: (_, next) => next, default: () => [] }),
  /** Importance of the current turn's exchange, 0..1. */
  importance: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  /** Turns since forgetting last ran for this thread. */
  turnsSinceForget: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
});

export type MemoryStateType = typeof MemoryState.State;
export type MemoryStateUpdate = typeof MemoryState.Update;
