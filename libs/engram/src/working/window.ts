import type { BaseMessage } from "@langchain/core/messages";
import { EngramError } from "../core/errors.js";
import { countTokens } from "./tokens.js";
import { describeValue } from "../core/describe.js";

/** How much of the conversation stays verbatim in the prompt. */
export interface WindowOptions {
  /**
   * Keep at most this many turns (a turn starts at a human message; messages before the first
   * human message form a turn of their own). A whole number of at least 1, or `Infinity`.
   * @default 10
   */
  maxTurns?: number;
  /**
   * Keep at most this many tokens of non-system messages (js-tiktoken cl100k_base, offline; see
   * `countTokens`). A whole number of at least 1.
   * @default undefined (no token cap)
   */
  maxTokens?: number;
}

/** The window's split of a conversation. Both lists keep the input order. */
export interface WindowResult {
  /** System messages, then the newest turns that fit. */
  kept: BaseMessage[];
  /** The older turns that left the window, oldest first (never a system message). */
  evicted: BaseMessage[];
}

export const DEFAULT_WINDOW_TURNS = 10;

/** Turns that must leave or stay together: one turn, or several joined by a tool call. */
interface Unit {
  /** Indices into the input, ascending. */
  indices: number[];
  /** Turns it counts for against `maxTurns`. */
  turns: number;
  tokens: number;
}

/**
 * Splits a conversation into what stays in the prompt and what leaves it. System messages are
 * always kept; `kept` and `evicted` keep the input order, so system messages that precede the
 * kept turns come first. A turn is never split, and an AI message with tool calls is never
 * separated from its tool results, even when a malformed history puts a human message between
 * them or a result before its call (the turns they span then stay or leave together). The newest turn is always kept, even
 * when it alone is over budget: a prompt without the question being answered is useless.
 */
export function selectWindow(messages: readonly BaseMessage[], options: WindowOptions = {}): WindowResult {
  const { maxTurns, maxTokens } = resolveWindowOptions(options);
  if (!Array.isArray(messages)) {
    throw new EngramError("INVALID_CONTENT", "selectWindow expects an array of chat messages.");
  }
  messages.forEach((message, index) => {
    if (message === null || typeof message !== "object" || typeof (message as { getType?: unknown }).getType !== "function") {
      throw new EngramError("INVALID_CONTENT", `Message ${index} is not a LangChain chat message.`);
    }
  });

  const units = buildUnits(messages);
  // Walk back from the newest unit; the first one that does not fit closes the window, so the
  // kept part is always a contiguous run of the latest turns.
  let firstKept = units.length;
  let turns = 0;
  let tokens = 0;
  for (let u = units.length - 1; u >= 0; u -= 1) {
    const unit = units[u]!;
    const isNewest = u === units.length - 1;
    const fitsTurns = turns + unit.turns <= maxTurns;
    const fitsTokens = maxTokens === undefined || tokens + unit.tokens <= maxTokens;
    if (!isNewest && !(fitsTurns && fitsTokens)) break;
    firstKept = u;
    turns += unit.turns;
    tokens += unit.tokens;
  }

  const evictedIndices = new Set<number>();
  for (let u = 0; u < firstKept; u += 1) for (const index of units[u]!.indices) evictedIndices.add(index);
  const kept: BaseMessage[] = [];
  const evicted: BaseMessage[] = [];
  messages.forEach((message, index) => (evictedIndices.has(index) ? evicted : kept).push(message));
  return { kept, evicted };
}

function resolveWindowOptions(options: WindowOptions): { maxTurns: number; maxTokens: number | undefined } {
  const maxTurns = options.maxTurns ?? DEFAULT_WINDOW_TURNS;
  if (!(maxTurns === Number.POSITIVE_INFINITY || (Number.isInteger(maxTurns) && maxTurns >= 1))) {
    throw new EngramError("INVALID_OPTIONS", `maxTurns must be a whole number of at least 1 (or Infinity); got ${describeValue(options.maxTurns)}.`, {
      details: { maxTurns: options.maxTurns },
    });
  }
  const maxTokens = options.maxTokens;
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens >= 1)) {
    throw new EngramError("INVALID_OPTIONS", `maxTokens must be a whole number of at least 1; got ${describeValue(maxTokens)}.`, {
      details: { maxTokens },
    });
  }
  return { maxTurns, maxTokens };
}

function kindOf(message: BaseMessage): "system" | "human" | "ai" | "tool" | "other" {
  const type = message.getType();
  if (type === "system" || type === "developer") return "system";
  if (type === "human") return "human";
  if (type === "ai") return "ai";
  if (type === "tool") return "tool";
  if (type === "generic") {
    // A ChatMessage with a user role opens a turn like a HumanMessage does.
    const role = (message as { role?: unknown }).role;
    if (role === "user" || role === "human") return "human";
  }
  return "other";
}

/**
 * Groups the non-system messages into turns, then joins runs of turns that a tool call crosses
 * (the AI message asking for a tool in one turn, its result after a later human message).
 */
function buildUnits(messages: readonly BaseMessage[]): Unit[] {
  const turnOf = new Array<number>(messages.length).fill(-1);
  const turnIndices: number[][] = [];
  messages.forEach((message, index) => {
    const kind = kindOf(message);
    if (kind === "system") return;
    if (kind === "human" || turnIndices.length === 0) turnIndices.push([]);
    turnIndices[turnIndices.length - 1]!.push(index);
    turnOf[index] = turnIndices.length - 1;
  });
  if (turnIndices.length === 0) return [];

  // joinUntil[t] = the last turn that turn t must stay together with.
  const joinUntil = turnIndices.map((_, t) => t);
  const join = (from: number, to: number) => {
    if (from < to) joinUntil[from] = Math.max(joinUntil[from]!, to);
  };
  const callTurn = new Map<string, number>();
  // Results stored ahead of their call (a history ordered by clocks that disagree, or by two
  // writers): paired with the call when it comes, so neither is kept without the other.
  const earlyResults = new Map<string, number[]>();
  messages.forEach((message, index) => {
    const kind = kindOf(message);
    if (kind === "ai") {
      for (const call of (message as { tool_calls?: ReadonlyArray<{ id?: string }> }).tool_calls ?? []) {
        if (typeof call.id !== "string") continue;
        callTurn.set(call.id, turnOf[index]!);
        for (const early of earlyResults.get(call.id) ?? []) join(early, turnOf[index]!);
        earlyResults.delete(call.id);
      }
    } else if (kind === "tool") {
      const id = (message as { tool_call_id?: unknown }).tool_call_id;
      if (typeof id !== "string") return;
      const from = callTurn.get(id);
      if (from !== undefined) join(from, turnOf[index]!);
      else earlyResults.set(id, [...(earlyResults.get(id) ?? []), turnOf[index]!]);
    }
  });

  const units: Unit[] = [];
  let t = 0;
  while (t < turnIndices.length) {
    let end = joinUntil[t]!;
    for (let k = t; k <= end; k += 1) end = Math.max(end, joinUntil[k]!);
    const indices = turnIndices.slice(t, end + 1).flat();
    units.push({ indices, turns: end - t + 1, tokens: countTokens(indices.map((i) => messages[i]!)) });
    t = end + 1;
  }
  return units;
}
