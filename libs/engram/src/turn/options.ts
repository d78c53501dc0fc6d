/**
 * The turn's options, resolved and validated once: every door (the graph, its nodes, the
 * middleware, `EngramMemory`) passes what it was given through {@link resolveTurnOptions} when it
 * is built, so the same bad value gets the same `EngramError` from each, before any turn runs.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { describeValue } from "../core/describe.js";
import { EngramError } from "../core/errors.js";
import { MEMORY_KINDS, type MemoryKind } from "../core/types.js";
import { HeuristicImportanceScorer } from "../scoring/importance/heuristic.js";
import type { ImportanceScorer } from "../scoring/importance/types.js";
import { selectWindow, type WindowOptions } from "../working/window.js";
import { defaultWarningHandler, type TurnMemory, type WarningHandler } from "./types.js";

/**
 * Importance at or above which a turn is stored as an episode. Turns below it reach long-term
 * memory only through summaries. The default heuristic scores small talk ("ok thanks") 0 and a
 * plain personal statement ("my sister lives in Berlin") about 0.3. Chosen on LoCoMo replayed
 * through the graph: the lowest threshold that still leaves small talk out, against storing every
 * turn and against higher thresholds, which lose the turns still in the window when a session
 * ends (figures: docs/benchmarks.md, "The importance edge's cost").
 */
export const DEFAULT_IMPORTANCE_THRESHOLD = 0.1;

/** Long-term memories recalled into each prompt. */
export const DEFAULT_RECALL_LIMIT = 5;

/** Most long-term memories one turn may recall. */
export const MAX_RECALL_LIMIT = 100;

/** Turns of a thread between two forgetting passes for its user. */
export const DEFAULT_FORGET_EVERY = 20;

/** Kinds recalled by meaning (procedures are read in full each turn, never searched). */
export const DEFAULT_RECALL_KINDS: readonly MemoryKind[] = ["episode", "fact", "summary"];

/** Longest query sent to recall, in characters; a longer message is cut. */
export const DEFAULT_MAX_QUERY_CHARS = 2_000;

/** What a turn can be configured with: the union of what the doors take (each takes a part). */
export interface TurnOptions {
  /** Long-term memory (a `Memory`). */
  memory: TurnMemory;
  /** Importance of each exchange. @default new HeuristicImportanceScorer() (no model call) */
  scorer?: ImportanceScorer;
  /** Exchanges scored at or above this (0..1) are stored as episodes. @default DEFAULT_IMPORTANCE_THRESHOLD (0.1) */
  importanceThreshold?: number;
  /** Long-term memories recalled for each turn (1 to 100). @default 5 */
  recallLimit?: number;
  /** Kinds recalled by meaning. @default ["episode", "fact", "summary"] */
  recallKinds?: MemoryKind[];
  /** Longest query sent to recall, in characters. @default 2000 */
  maxQueryChars?: number;
  /** The window of turns kept verbatim; older turns are folded into the summary. @default { maxTurns: 10 } */
  window?: WindowOptions;
  /** Writes the summaries. @default undefined (extractive summaries, no model call) */
  summaryModel?: BaseChatModel;
  /** Token budget of the running summary and of each stored summary. @default 400 */
  summaryMaxTokens?: number;
  /** Run forgetting for the user every this many turns of a thread; 0 turns it off. @default 20 */
  forgetEvery?: number;
  /** Where a degraded recall and failed upkeep are reported. @default console.warn */
  onWarning?: WarningHandler;
}

/** {@link TurnOptions} with every default applied. */
export interface ResolvedTurnOptions {
  memory: TurnMemory;
  scorer: ImportanceScorer;
  importanceThreshold: number;
  recallLimit: number;
  recallKinds: readonly MemoryKind[];
  maxQueryChars: number;
  window: WindowOptions | undefined;
  summaryModel: BaseChatModel | undefined;
  summaryMaxTokens: number | undefined;
  forgetEvery: number;
  warn: WarningHandler;
}

/**
 * Checks every option a turn takes and applies the defaults. `door` names the caller in the
 * messages ("createMemoryGraph", "engramMiddleware"...).
 * @throws EngramError `INVALID_OPTIONS` naming the first bad option.
 */
export function resolveTurnOptions(options: TurnOptions, door: string): ResolvedTurnOptions {
  if (options === null || typeof options !== "object") {
    throw new EngramError("INVALID_OPTIONS", `${door} needs options, e.g. ${door}({ memory }).`);
  }
  return {
    memory: checkMemory(options.memory, door),
    scorer: checkScorer(options.scorer),
    importanceThreshold: checkImportanceThreshold(options.importanceThreshold),
    recallLimit: checkRecallLimit(options.recallLimit),
    recallKinds: checkRecallKinds(options.recallKinds),
    maxQueryChars: positiveInteger(options.maxQueryChars ?? DEFAULT_MAX_QUERY_CHARS, "maxQueryChars", options.maxQueryChars),
    window: checkWindow(options.window),
    summaryModel: checkModel(options.summaryModel, "summaryModel"),
    summaryMaxTokens: options.summaryMaxTokens === undefined ? undefined : positiveInteger(options.summaryMaxTokens, "summaryMaxTokens"),
    forgetEvery: checkForgetEvery(options.forgetEvery),
    warn: checkWarningHandler(options.onWarning),
  };
}

/** A `Memory`, or anything with the methods the door calls (`search` and `add` by default). */
export function checkMemory(memory: unknown, door: string, methods: ReadonlyArray<keyof TurnMemory> = ["search", "add"]): TurnMemory {
  const candidate = memory as Record<string, unknown> | null;
  if (candidate === null || typeof candidate !== "object" || methods.some((method) => typeof candidate[method] !== "function")) {
    throw new EngramError("INVALID_OPTIONS", `${door}: memory must be an Engram Memory, e.g. new Memory().`);
  }
  return candidate as unknown as TurnMemory;
}

export function checkScorer(scorer: unknown): ImportanceScorer {
  if (scorer === undefined) return new HeuristicImportanceScorer();
  if (scorer === null || typeof scorer !== "object" || typeof (scorer as ImportanceScorer).score !== "function") {
    throw new EngramError("INVALID_OPTIONS", `scorer must be an ImportanceScorer (an object with score()), got ${describeValue(scorer)}.`);
  }
  return scorer as ImportanceScorer;
}

export function checkImportanceThreshold(threshold: unknown): number {
  const value = threshold ?? DEFAULT_IMPORTANCE_THRESHOLD;
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new EngramError("INVALID_OPTIONS", `importanceThreshold must be a number from 0 to 1, got ${describeValue(threshold)}.`);
  }
  return value;
}

export function checkRecallLimit(limit: unknown, name = "recallLimit"): number {
  const value = limit ?? DEFAULT_RECALL_LIMIT;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_RECALL_LIMIT) {
    throw new EngramError("INVALID_OPTIONS", `${name} must be an integer from 1 to ${MAX_RECALL_LIMIT}, got ${describeValue(limit)}.`);
  }
  return value;
}

export function checkRecallKinds(kinds: unknown): readonly MemoryKind[] {
  if (kinds === undefined) return DEFAULT_RECALL_KINDS;
  if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((kind) => !(MEMORY_KINDS as readonly unknown[]).includes(kind))) {
    throw new EngramError("INVALID_OPTIONS", `recall kinds must be a non-empty list of ${MEMORY_KINDS.join(", ")}, got ${describeValue(kinds)}.`);
  }
  return kinds as MemoryKind[];
}

export function checkWindow(window: unknown): WindowOptions | undefined {
  if (window !== undefined && (window === null || typeof window !== "object")) {
    throw new EngramError("INVALID_OPTIONS", `window must be an object such as { maxTurns: 10 }, got ${describeValue(window)}.`);
  }
  // selectWindow validates its options; an empty conversation makes that a free check.
  selectWindow([], window as WindowOptions | undefined);
  return window as WindowOptions | undefined;
}

export function checkForgetEvery(forgetEvery: unknown): number {
  const value = forgetEvery ?? DEFAULT_FORGET_EVERY;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new EngramError("INVALID_OPTIONS", `forgetEvery must be a whole number (0 turns forgetting off), got ${describeValue(forgetEvery)}.`);
  }
  return value;
}

export function checkModel<T>(model: T | undefined, name: string): T | undefined {
  if (model === undefined) return undefined;
  if (model === null || typeof model !== "object" || typeof (model as { invoke?: unknown }).invoke !== "function") {
    throw new EngramError("INVALID_OPTIONS", `${name} must be a LangChain chat model, got ${describeValue(model)}.`);
  }
  return model;
}

export function checkWarningHandler(onWarning: unknown): WarningHandler {
  if (onWarning === undefined) return defaultWarningHandler;
  if (typeof onWarning !== "function") {
    throw new EngramError("INVALID_OPTIONS", `onWarning must be a function, got ${describeValue(onWarning)}.`);
  }
  return onWarning as WarningHandler;
}

export function positiveInteger(value: unknown, name: string, given: unknown = value): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new EngramError("INVALID_OPTIONS", `${name} must be a positive integer, got ${describeValue(given)}.`);
  }
  return value;
}
