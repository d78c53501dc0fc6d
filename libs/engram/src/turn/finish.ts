/**
 * The end of a turn, framework-free: score the exchange, route it by importance, store it when
 * it matters, then consolidate (`turn/consolidate.ts`). The graph runs the steps as its `score`
 * node, importance edge, `remember` and `consolidate` nodes; the middleware and `EngramMemory`
 * call {@link finishTurn}, which runs the same steps in the same order.
 */
import type { BaseMessage } from "@langchain/core/messages";
import type { MemoryRecord, Scope, ScoredMemory } from "../core/types.js";
import { consolidateTurn } from "./consolidate.js";
import { contextOf, withoutEngramContext } from "./echo.js";
import { exchangeText, lastExchange } from "./messages.js";
import { offTheStream } from "./off_stream.js";
import type { ResolvedTurnOptions } from "./options.js";

/** Short-term memory at the end of a turn: the conversation including the new exchange. */
export interface TurnInput {
  messages: BaseMessage[];
  /** The running summary before this turn ("" for none). */
  summary: string;
  turnsSinceForget: number;
  /** What was recalled for the turn: sets its novelty, and is never stored back from a reply. */
  recalled: ScoredMemory[];
  /** The core blocks and learned instructions shown in the turn's prompt (never stored back). */
  procedures?: MemoryRecord[];
}

/** What the end of a turn did. */
export interface TurnOutcome {
  importance: number;
  /** True when the exchange was stored as episodes. */
  stored: boolean;
  /** The running summary after folding in what left the window. */
  summary: string;
  /** Ids of the messages that left the window (the door removes them from its conversation). */
  evictedIds: string[];
  turnsSinceForget: number;
}

/**
 * Novelty of the turn against long-term memory: 1 when nothing recalled resembles it, 0 when a
 * recalled memory matches it exactly (semantic relevance 1).
 */
export function noveltyOf(state: { recalled: readonly ScoredMemory[] }): number {
  const best = state.recalled.reduce((max, memory) => Math.max(max, memory.scoreParts.relevance), 0);
  return Math.min(1, Math.max(0, 1 - best));
}

/**
 * Importance (0..1) of the last exchange (latest human message and the replies to it), 0 when
 * there is none. A scorer that fails must not fail the turn: a warning and a neutral 0.5.
 */
export async function scoreExchange(
  options: Pick<ResolvedTurnOptions, "scorer" | "warn">,
  state: { messages: readonly BaseMessage[]; recalled: readonly ScoredMemory[] },
): Promise<number> {
  const exchange = lastExchange(state.messages);
  if (exchange.length === 0) return 0;
  let value: number;
  try {
    // An LLM scorer's rating is not the agent's answer: kept out of the run's messages stream.
    value = (await offTheStream(() => options.scorer.score({ text: exchangeText(exchange), novelty: noveltyOf(state) }))).value;
  } catch (error) {
    options.warn(`Scoring the turn failed (${(error as Error)?.message ?? error}); it counts with importance 0.5.`, error);
    return 0.5;
  }
  // A scorer of your own may stray outside 0..1.
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/** The importance edge: true when an exchange of this importance is stored as episodes. */
export function isImportant(options: Pick<ResolvedTurnOptions, "importanceThreshold">, importance: number): boolean {
  return importance >= options.importanceThreshold;
}

/**
 * Stores the last exchange as `episode` records of the user, with the turn's importance and the
 * thread and message ids as their source (message ids make a replayed turn store nothing new).
 * What Engram put into the prompt is taken out of the replies first (no memory of memory); a
 * reply over Memory's size limit is stored as linked parts. A failed write is a warning: the
 * answer is given, and the exchange reaches long-term memory through its summary later.
 * @returns true when something was handed to Memory.
 */
export async function rememberExchange(
  options: Pick<ResolvedTurnOptions, "memory" | "warn">,
  state: { messages: readonly BaseMessage[]; importance: number; summary?: string; recalled?: readonly ScoredMemory[]; procedures?: readonly MemoryRecord[] },
  scope: Scope,
): Promise<boolean> {
  const exchange = withoutEngramContext(lastExchange(state.messages), contextOf(state));
  if (exchange.length === 0) return false;
  try {
    // Fact extraction inside `add` (facts: { background: false }) calls a model: not the answer either.
    await offTheStream(() => options.memory.add(exchange, { ...scope, kind: "episode", importance: clamp(state.importance), oversize: "split" }));
    return true;
  } catch (error) {
    options.warn(
      `Remembering the turn failed (${(error as Error)?.message ?? error}); the answer stands, and the exchange reaches long-term memory through its summary when it leaves the window.`,
      error,
    );
    return false;
  }
}

/** The end of a turn: score, the importance edge, remember, consolidate. */
export async function finishTurn(options: ResolvedTurnOptions, input: TurnInput, scope: Scope): Promise<TurnOutcome> {
  const importance = await scoreExchange(options, input);
  const stored = isImportant(options, importance);
  if (stored) await rememberExchange(options, { ...input, importance }, scope);
  const consolidated = await consolidateTurn(options, input, scope);
  return {
    importance,
    stored,
    summary: consolidated.summary ?? input.summary,
    evictedIds: consolidated.evictedIds,
    turnsSinceForget: consolidated.turnsSinceForget,
  };
}

function clamp(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0.5;
}
