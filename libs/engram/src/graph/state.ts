import type { BaseMessage } from "@langchain/core/messages";
import { Annotation, MessagesValue, ReducedValue, StateSchema, type Messages } from "@langchain/langgraph";
import { z } from "zod";
import { MEMORY_KINDS, type MemoryRecord, type ScoredMemory } from "../core/types.js";
import { keepFirstOwner } from "../turn/scope.js";

/*
 * A StateSchema (not an Annotation) so the LangGraph server reads the state's JSON schema from the
 * graph at run time: with an Annotation it type-checks the source instead, which took over 30 s
 * (its timeout) on a loaded two-core machine, and Studio then shows no input form.
 * The record schemas are loose: they describe the main fields for Studio and keep every other
 * field as it is, so a record never loses data on its way through the state.
 */
const scope = z.looseObject({ userId: z.string(), agentId: z.string().optional(), threadId: z.string().optional() });

const recordFields = {
  id: z.string(),
  scope,
  kind: z.enum(MEMORY_KINDS as [string, ...string[]]),
  content: z.string(),
  importance: z.number(),
  role: z.string().optional(),
  createdAt: z.number().describe("ms since the epoch"),
  source: z.looseObject({ threadId: z.string().optional(), messageIds: z.array(z.string()).optional() }),
};

const memoryRecord = z.looseObject(recordFields) as unknown as z.ZodType<MemoryRecord>;
const scoredMemory = z.looseObject({
  ...recordFields,
  score: z.number().describe("the ranker's fused score, 0..1"),
}) as unknown as z.ZodType<ScoredMemory>;

/**
 * Engram's channels without `messages`, to merge into a `StateSchema` of your own:
 * `new StateSchema({ messages: MessagesValue, ...engramStateFields, mine: z.string() })`.
 */
export const engramStateFields = {
  /** Running summary of the turns that left the window ("" until the first eviction). */
  summary: z.string().default("").describe("Running summary of the turns that left the window"),
  /** Long-term memories recalled for the current turn, best first. */
  recalled: z.array(scoredMemory).default(() => []).describe("Long-term memories recalled for this turn, best first"),
  /** The user's procedural memory (core blocks and learned instructions), read each turn. */
  procedures: z.array(memoryRecord).default(() => []).describe("The user's core blocks and learned instructions"),
  /** Importance of the current turn's exchange, 0..1. */
  importance: z.number().min(0).max(1).default(0).describe("Importance of this turn's exchange, 0..1"),
  /** Turns since forgetting last ran for this thread. */
  turnsSinceForget: z.number().int().min(0).default(0),
  /** The user whose thread this is, set by its first run: a run of another user is refused. */
  owner: new ReducedValue(z.string().default("").describe("The user whose thread this is (set by its first run, never changed)"), {
    reducer: keepFirstOwner,
  }),
};

/**
 * The memory graph's state. `messages` is the working memory (the window plus the turn in
 * progress; consolidation removes what leaves the window). `summary` and `turnsSinceForget` carry
 * over between turns in the thread's checkpoints; the rest is rebuilt each turn.
 * Add fields of your own with `new StateSchema({ ...MemoryState.fields, mine: z.string() })`.
 */
/**
 * LangGraph's messages value, with its type written out: inferred, it is printed in the declaration
 * files through `langchain` (an optional peer that re-exports the message classes, and the shortest
 * name TypeScript finds), which a TypeScript user without `langchain` cannot resolve.
 */
const messagesValue: ReducedValue<BaseMessage[], Messages> = MessagesValue;

export const MemoryState = new StateSchema({
  /** The conversation. Appends and `RemoveMessage`s merge by id, as in `MessagesAnnotation`. */
  messages: messagesValue,
  ...engramStateFields,
});

/**
 * What a run's input may set: every channel but `owner`, which the graph's first run sets from the
 * run's user. An app passing a client's request body on as input cannot name the owner.
 */
const { owner: _owner, ...inputFields } = engramStateFields;
export const MemoryInput = new StateSchema({ messages: messagesValue, ...inputFields });

/** Each channel keeps the last value written; the defaults match `engramStateFields`. */
function lastValue<T>(initial: () => T) {
  return Annotation<T>({ reducer: (_previous: T, next: T) => next, default: initial });
}

/**
 * Engram's channels without `messages` as an `Annotation.Root`, for graphs built on annotations:
 * `Annotation.Root({ ...MessagesAnnotation.spec, ...EngramAnnotation.spec, mine: Annotation<string> })`.
 */
export const EngramAnnotation = Annotation.Root({
  summary: lastValue<string>(() => ""),
  recalled: lastValue<ScoredMemory[]>(() => []),
  procedures: lastValue<MemoryRecord[]>(() => []),
  importance: lastValue<number>(() => 0),
  turnsSinceForget: lastValue<number>(() => 0),
  owner: Annotation<string>({ reducer: keepFirstOwner, default: () => "" }),
});

export type MemoryStateType = typeof MemoryState.State;
export type MemoryStateUpdate = typeof MemoryState.Update;

/** Engram's channels (`summary`, `recalled`, `procedures`, `importance`, `turnsSinceForget`, `owner`) and `messages`. */
export type EngramChannel = keyof MemoryStateType;

/**
 * The part of the state a node reads or writes. A node typed with it cannot be given a state
 * that lacks one of those channels (`addNode({ name: node })`, `addSequence`, a direct call).
 */
export type StateWith<K extends EngramChannel> = Pick<MemoryStateType, K>;
