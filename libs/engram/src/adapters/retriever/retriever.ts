import { AsyncLocalStorage } from "node:async_hooks";
import { parseCallbackConfigArg } from "@langchain/core/callbacks/manager";
import { Document } from "@langchain/core/documents";
import { BaseRetriever, type BaseRetrieverInput } from "@langchain/core/retrievers";
import { ensureConfig, type RunnableConfig } from "@langchain/core/runnables";
import { EngramError } from "../../core/errors.js";
import { validateScope } from "../../core/scope.js";
import type { ScoredMemory } from "../../core/types.js";
import type { Memory } from "../../memory/memory.js";
import type { MemoryFilters } from "../../memory/options.js";
import { storeFilter } from "../../memory/records.js";
import { resolveRanker, type RankerOptions, type ScoreParts } from "../../scoring/ranker.js";
import { countTokens } from "../../working/tokens.js";
import { checkMemory, positiveInteger } from "../../turn/options.js";
import { scopeFromRun, userOfRun } from "../../turn/scope.js";
import { selectMemories } from "./select.js";
import { describeValue } from "../../core/describe.js";
import { refuseUnknownOptions, type OptionNames } from "../../core/option_names.js";

/** Options of `new EngramRetriever(options)`. */
export interface EngramRetrieverOptions extends BaseRetrieverInput {
  /** Where the memories live. */
  memory: Memory;
  /**
   * The user whose memories are searched. Left out, each call's `config.configurable.user_id` is
   * used. A retriever built for one user refuses a call whose config names another.
   * @default undefined (the run's user)
   */
  userId?: string;
  /** Most documents returned. @default 4 */
  k?: number;
  /**
   * Ranker weights for this retriever (semantic relevance, BM25 lexical match, recency,
   * importance, neighbours), over the Memory's own; fields left out keep the Memory's value.
   * @default the Memory's ranker
   */
  ranker?: RankerOptions;
  /**
   * Token budget of the returned documents' text together (cl100k_base, as the window counts). A
   * document that does not fit is skipped for a smaller one further down.
   * @default undefined (no budget: `k` alone bounds the result)
   */
  maxTokens?: number;
  /**
   * Near-duplicate suppression: a result whose content words (stemmed, stop words left out)
   * overlap a better result's at or above this Jaccard similarity is dropped ("Alice is allergic
   * to peanuts." and "The user Alice is ALLERGIC to peanuts!" share 3 of 4 words: 0.75). 1 drops
   * only results with the same words; exact copies are always dropped.
   * @default 0.75
   */
  dedupeThreshold?: number;
  /** Kinds, times or metadata to search within. @default every kind */
  filters?: MemoryFilters;
  /** Results scoring below this (0..1) are dropped. @default 0 */
  threshold?: number;
  /**
   * Candidates asked of the ranker before near duplicates and the budget thin them out.
   * @default max(4 * k, 20), at most 1000 (the most one Memory.search returns)
   */
  fetchK?: number;
  /**
   * Leave one conversation out of the results: `true` for the run's own
   * (`config.configurable.thread_id`, or `sessionId` as `RunnableWithMessageHistory` names it; a
   * run that names neither is refused), or a thread id. For a chain whose history already holds
   * the thread's turns, so they do not come back twice; memories from the user's other threads
   * still do. The left-out memories do not count towards `k` (more candidates are asked for).
   * @default false
   */
  excludeThread?: boolean | string;
}

/** Its own names and BaseRetriever's (callbacks, tags, metadata, verbose). */
const RETRIEVER_OPTIONS: OptionNames<EngramRetrieverOptions> = {
  memory: true,
  userId: true,
  k: true,
  ranker: true,
  maxTokens: true,
  dedupeThreshold: true,
  filters: true,
  threshold: true,
  fetchK: true,
  excludeThread: true,
  callbacks: true,
  tags: true,
  metadata: true,
  verbose: true,
};

/**
 * Most results one `Memory.search` returns (its `limit` is refused above it). The retriever's
 * `k` and `fetchK` are held to it when it is built: above it, every call failed instead.
 */
const MAX_SEARCH_LIMIT = 1_000;

function atMostSearchLimit(value: number, name: string): number {
  if (value > MAX_SEARCH_LIMIT) {
    throw new EngramError("INVALID_OPTIONS", `${name} must be at most ${MAX_SEARCH_LIMIT} (the most one Memory.search returns), got ${value}.`);
  }
  return value;
}

/** What each document's metadata holds. */
export interface EngramDocumentMetadata {
  /** The memory's own flat metadata comes first; the fields below are Engram's. */
  [key: string]: unknown;
  id: string;
  /** The ranker's fused score, 0..1. */
  score: number;
  scoreParts: ScoreParts;
  kind: ScoredMemory["kind"];
  importance: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** The thread the memory came from, when known. */
  threadId?: string;
  /** The messages the memory came from, when known. */
  messageIds?: string[];
  /** Role of the message it came from (`user`, `assistant`), for episodes. */
  role?: string;
}

/**
 * The user of the call in progress. `BaseRetriever.invoke` hands `_getRelevantDocuments` only a
 * callback manager, not the config, so `invoke` resolves the user and passes it down here; each
 * call has its own async context, so concurrent calls for different users never mix.
 */
const callUser = new AsyncLocalStorage<{ userId: string; excludedThread: string | undefined }>();

/**
 * A LangChain `BaseRetriever` over Engram's recall ranker (the one behind `Memory.search`): the
 * user's memories best first, near duplicates dropped, at most `k`, within a token budget. Each
 * `Document` carries the memory's id, score, score parts, kind, date and source ids in metadata.
 *
 * ```ts
 * const retriever = new EngramRetriever({ memory, k: 4, maxTokens: 300 });
 * const docs = await retriever.invoke("What does the user eat?", { configurable: { user_id: "alice" } });
 * ```
 * Use it in an LCEL chain like any retriever, or as an agent tool (`createRetrieverTool`).
 */
export class EngramRetriever extends BaseRetriever<EngramDocumentMetadata> {
  static override lc_name(): string {
    return "EngramRetriever";
  }

  override lc_namespace = ["engram", "retrievers"];

  readonly k: number;

  readonly maxTokens: number | undefined;

  readonly dedupeThreshold: number;

  readonly fetchK: number;

  private readonly memory: Memory;

  private readonly userId: string | undefined;

  private readonly ranker: RankerOptions | undefined;

  private readonly filters: MemoryFilters | undefined;

  private readonly threshold: number | undefined;

  private readonly excludeThread: boolean | string;

  constructor(options: EngramRetrieverOptions) {
    super(options);
    if (options === null || typeof options !== "object") {
      throw new EngramError("INVALID_OPTIONS", "EngramRetriever needs options: new EngramRetriever({ memory }).");
    }
    refuseUnknownOptions(options, "EngramRetriever", RETRIEVER_OPTIONS, "{ memory, k: 4 }");
    this.memory = checkMemory(options.memory, "EngramRetriever") as Memory;
    this.userId = options.userId === undefined ? undefined : validateScope({ userId: options.userId }).userId;
    this.k = atMostSearchLimit(positiveInteger(options.k ?? 4, "k"), "k");
    this.maxTokens = options.maxTokens === undefined ? undefined : positiveInteger(options.maxTokens, "maxTokens");
    this.dedupeThreshold = options.dedupeThreshold ?? 0.75;
    if (typeof this.dedupeThreshold !== "number" || !(this.dedupeThreshold > 0 && this.dedupeThreshold <= 1)) {
      throw new EngramError("INVALID_OPTIONS", `dedupeThreshold must be a number above 0 and at most 1, got ${describeValue(options.dedupeThreshold)}.`);
    }
    this.fetchK = atMostSearchLimit(positiveInteger(options.fetchK ?? Math.min(Math.max(4 * this.k, 20), MAX_SEARCH_LIMIT), "fetchK"), "fetchK");
    if (this.fetchK < this.k) throw new EngramError("INVALID_OPTIONS", `fetchK (${this.fetchK}) must be at least k (${this.k}).`);
    // Checked now so a bad weight fails where the retriever is built, not on its first call.
    if (options.ranker !== undefined) resolveRanker(options.ranker);
    this.ranker = options.ranker;
    // Checked as Memory.search checks them, now: a bad value would fail every retrieval instead.
    if (options.filters !== undefined) storeFilter({ userId: "check" }, options.filters);
    if (options.threshold !== undefined && (typeof options.threshold !== "number" || !(options.threshold >= 0 && options.threshold <= 1))) {
      throw new EngramError("INVALID_OPTIONS", `threshold must be a number from 0 to 1, got ${describeValue(options.threshold)}.`);
    }
    this.filters = options.filters;
    this.threshold = options.threshold;
    const exclude = options.excludeThread ?? false;
    if (typeof exclude === "string") validateScope({ userId: "check", threadId: exclude });
    else if (typeof exclude !== "boolean") {
      throw new EngramError("INVALID_OPTIONS", `excludeThread must be true, false or a thread id, got ${describeValue(exclude)}.`);
    }
    this.excludeThread = exclude;
  }

  /** Resolves the call's user from its config before retrieval starts (see `callUser`). */
  override async invoke(input: string, options?: RunnableConfig): Promise<Document<EngramDocumentMetadata>[]> {
    // ensureConfig also reads the config of an enclosing run (a tool or chain step that passed
    // only callbacks down, as createRetrieverTool does).
    const config = ensureConfig(parseCallbackConfigArg(options));
    const call = { userId: this.userFor(config), excludedThread: this.excludedThreadFor(config) };
    return callUser.run(call, () => super.invoke(input, options)) as Promise<Document<EngramDocumentMetadata>[]>;
  }

  override async _getRelevantDocuments(query: string): Promise<Document<EngramDocumentMetadata>[]> {
    const call = callUser.getStore() ?? { userId: this.userFor(ensureConfig()), excludedThread: this.excludedThreadFor(ensureConfig()) };
    const { userId, excludedThread } = call;
    const search = (limit: number) =>
      this.memory.search(query, {
        userId,
        limit,
        ...(this.filters === undefined ? {} : { filters: this.filters }),
        ...(this.threshold === undefined ? {} : { threshold: this.threshold }),
        ...(this.ranker === undefined ? {} : { ranker: this.ranker }),
      });
    if (excludedThread === undefined) return this.select(await search(this.fetchK));
    // The thread left out may hold all of the best matches (a long conversation about the very
    // topic asked): ask for more until fetchK candidates of other threads are in hand, or the
    // search has no more. Asked for twice fetchK once, a retriever found nothing of the user's other
    // threads whenever this one held that many better matches.
    let limit = Math.min(this.fetchK * 2, MAX_SEARCH_LIMIT);
    for (;;) {
      const found = await search(limit);
      const ranked = found.filter((memory) => (memory.source.threadId ?? memory.scope.threadId) !== excludedThread);
      if (ranked.length >= this.fetchK || found.length < limit || limit === MAX_SEARCH_LIMIT) return this.select(ranked);
      limit = Math.min(limit * 4, MAX_SEARCH_LIMIT);
    }
  }

  private select(ranked: readonly ScoredMemory[]): Document<EngramDocumentMetadata>[] {
    const { kept } = selectMemories(ranked, {
      k: this.k,
      maxTokens: this.maxTokens,
      dedupeThreshold: this.dedupeThreshold,
      countTokens,
    });
    return kept.map(toDocument);
  }

  /** The thread to leave out of this call's results, if any. */
  private excludedThreadFor(config: RunnableConfig): string | undefined {
    if (this.excludeThread === false) return undefined;
    if (typeof this.excludeThread === "string") return this.excludeThread;
    const configurable = (config.configurable ?? {}) as Record<string, unknown>;
    const thread = configurable.thread_id ?? configurable.sessionId;
    if ((typeof thread !== "string" || thread === "") && typeof thread !== "number") {
      throw new EngramError(
        "INVALID_SCOPE",
        "This EngramRetriever leaves the run's thread out (excludeThread: true), and the run names none: pass config.configurable.thread_id (or sessionId).",
      );
    }
    return String(thread);
  }

  private userFor(config: RunnableConfig): string {
    if (this.userId === undefined) return scopeFromRun(config, "EngramRetriever").userId;
    const configured = userOfRun(config, "EngramRetriever");
    if (configured !== undefined && configured !== this.userId) {
      throw new EngramError(
        "INVALID_USER_ID",
        "This EngramRetriever is bound to one user and the run (config.configurable.user_id or its context) names another; " +
          "build the retriever without userId to serve each run's user.",
      );
    }
    return this.userId;
  }
}

function toDocument(memory: ScoredMemory): Document<EngramDocumentMetadata> {
  const metadata: EngramDocumentMetadata = {
    ...memory.metadata,
    id: memory.id,
    score: memory.score,
    scoreParts: memory.scoreParts,
    kind: memory.kind,
    importance: memory.importance,
    createdAt: memory.createdAt,
  };
  const threadId = memory.source.threadId ?? memory.scope.threadId;
  if (threadId !== undefined) metadata.threadId = threadId;
  if (memory.source.messageIds !== undefined) metadata.messageIds = [...memory.source.messageIds];
  if (memory.role !== undefined) metadata.role = memory.role;
  return new Document({ pageContent: memory.content, metadata, id: memory.id });
}
