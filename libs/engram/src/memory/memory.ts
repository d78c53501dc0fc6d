import { join } from "node:path";
import type Database from "better-sqlite3";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { BaseMessage } from "@langchain/core/messages";
import { EngramError } from "../core/errors.js";
import { checkIdText } from "../core/text.js";
import { validateKind, validatePrefix, validateScope } from "../core/scope.js";
import type { HistoryEntry, MemoryKind, MemoryRecord, MemorySource, Scope, ScoredMemory } from "../core/types.js";
import {
  DEFAULT_MAX_CONTENT_CHARS,
  validateContent,
  validateImportance,
  validateLimit,
  validateMetadata,
  validateOptionObject,
  validateRecordId,
  validateTime,
} from "../core/validate.js";
import { LocalEmbeddings } from "../embeddings/local.js";
import { ChromaStore } from "../store/chroma_store.js";
import { ChromaConnection } from "../store/connection.js";
import { HistoryLog } from "../store/history.js";
import { Outbox } from "../store/outbox.js";
import { openDatabase } from "../store/sqlite.js";
import type { EpisodicStore, StoreFilter } from "../store/types.js";
import { normalizeMessages } from "./messages.js";
import { fitText, itemId, partMetadata, validateOversize, type FittedItem } from "./fit.js";
import type {
  AddOptions,
  AddResult,
  DeleteAllResult,
  FlushResult,
  GetAllOptions,
  MemoryFilters,
  MemoryOptions,
  MemoryPatch,
  SearchOptions,
} from "./options.js";
import { withCurrentNames } from "./options.js";
import { Writer, type DrainResult, type WriteOp } from "./writer.js";
import { Recall } from "./recall.js";
import { GatedStore } from "./gated_store.js";
import { WriteLeases } from "../store/write_leases.js";
import { DEFAULT_RANKER, resolveRanker, STATIC_RANKER, type ResolvedRankerOptions } from "../scoring/ranker.js";
import { STATIC_MODEL_ID } from "../embeddings/static.js";
import { FactPipeline, forgetFactJobs, resolveFactOptions, resolveInfer } from "./facts.js";
import { isCurrent, validateIncludeInvalid } from "../consolidation/validity.js";
import { EmbeddingCache } from "../embeddings/cache.js";
import { embeddingsIdentity, LEGACY_DEFAULT_MODEL_ID } from "../embeddings/identity.js";
import { ModelGuard } from "./model_guard.js";
import { boostByEntities, resolveEntityOptions, withEntities, withoutEntities, type ResolvedEntityOptions } from "../scoring/entities.js";
import { planForget, resolveForgetRules, type ForgetOptions, type ForgetReport } from "../consolidation/forget.js";
import { forgetReport, forgetWriteOps, loadForgetItems } from "./forget_ops.js";
import { UpkeepQueue } from "./upkeep.js";
import { consolidateSession, type EndSessionResult } from "../consolidation/end_session.js";
import { UsageLog, type UsageKind, type UsageOptions, type UsageReport } from "./usage.js";
import type { UsageHook } from "../core/token_usage.js";
import { describeValue } from "../core/describe.js";

interface Parts {
  db: Database.Database;
  store: EpisodicStore;
  history: HistoryLog;
  writer: Writer;
  recall: Recall;
  usage: UsageLog;
}

/**
 * Long-term memory with the API the field knows from mem0: `add`, `search`, `get`, `getAll`,
 * `update`, `delete`, `deleteAll`, `history`. Every call names a user; a user's memories are
 * never reachable through another user's id.
 *
 * ```ts
 * const m = new Memory(); // local Chroma in ./.engram, local embeddings, offline
 * await m.add("User prefers Python for data science", { userId: "alice" });
 * const hits = await m.search("What programming language?", { userId: "alice" });
 * await m.close();
 * ```
 *
 * Nothing starts in the constructor: the server, the model and the database open on first use.
 */
export class Memory {
  private readonly dataDir: string;

  private readonly embeddings: EmbeddingsInterface;

  private readonly clock: () => number;

  private readonly maxContentChars: number;

  private readonly connection?: ChromaConnection;

  private readonly prefix: string;

  private readonly ranker: ResolvedRankerOptions;

  private parts?: Parts;

  private closed = false;

  private readonly entityOptions: ResolvedEntityOptions;
  private readonly embeddingCache: EmbeddingCache;

  /** Fact extraction and reconciliation; only with a chat model (`options.model`). */
  private facts?: FactPipeline;
  /** Forgetting passes started by `scheduleForget`, one per user at a time. */
  private readonly upkeep = new UpkeepQueue();
  /** Set when `close()` begins (`closed` once it has released everything). */
  private closing?: Promise<void>;
  private readonly writes: "sync" | "background";
  /** Users whose background drain is scheduled for the next turn of the event loop. */
  private readonly drainsDue = new Set<string>();
  /** One model per data folder: refuses a folder whose vectors another model wrote (model_guard.ts). */
  private readonly modelGuard: ModelGuard;

  constructor(private readonly options: MemoryOptions = {}) {
    // `extractionModel` and `recallIndex` (or their deprecated names `model` and `recallCache`).
    options = this.options = withCurrentNames(options);
    this.dataDir = options.dataDir ?? ".engram";
    this.embeddings = options.embeddings ?? new LocalEmbeddings();
    this.clock = options.clock ?? Date.now;
    this.maxContentChars = options.maxContentChars ?? DEFAULT_MAX_CONTENT_CHARS;
    this.prefix = validatePrefix(options.prefix ?? "engram");
    const modelId = embeddingsIdentity(this.embeddings);
    // The ranker's weights were chosen per model (cross-validated on LoCoMo dev): the static
    // model's narrow cosine band needs its own.
    this.ranker = resolveRanker(options.ranker, modelId === STATIC_MODEL_ID ? STATIC_RANKER : DEFAULT_RANKER);
    this.entityOptions = resolveEntityOptions(options.entities);
    this.embeddingCache = new EmbeddingCache(validateLimit(options.embeddingCache, "embeddingCache", 1_024, 1_000_000));
    this.writes = validateWrites(options.writes);
    if (options.model) resolveFactOptions(options.facts); // bad values fail here, not on first use
    if (!options.store) {
      this.connection = new ChromaConnection(options.chroma ?? {}, join(this.dataDir, "chroma"));
    }
    const chroma = options.chroma as { url?: unknown; client?: unknown } | undefined;
    this.modelGuard = new ModelGuard({
      modelId,
      // A folder written before folders recorded their model, opened with the default model, holds
      // the vectors of the default of that time.
      unmarkedModelId: options.embeddings === undefined ? LEGACY_DEFAULT_MODEL_ID : undefined,
      dataDir: this.dataDir,
      prefix: this.prefix,
      sharedServer: !options.store && (chroma?.url !== undefined || chroma?.client !== undefined),
    });
  }

  /** The data folder (`options.dataDir`), so drop-ins can keep their files next to Memory's. */
  get dataFolder(): string {
    return this.dataDir;
  }

  /**
   * Stores a text, or chat messages (one record per message with text; LangChain messages or
   * `{ role, content }`). Ids are deterministic: adding the same thing twice stores it once.
   */
  async add(input: string | ReadonlyArray<unknown>, options: AddOptions): Promise<AddResult> {
    const scope = validateScope(options);
    const kind: MemoryKind = options.kind === undefined ? "episode" : validateKind(options.kind);
    const metadata = validateMetadata(options.metadata);
    const importance = options.importance === undefined ? 0.5 : validateImportance(options.importance);
    const expiresAt = options.expiresAt === undefined ? undefined : validateTime(options.expiresAt, "expiresAt");
    const explicitId = options.id === undefined ? undefined : validateRecordId(options.id);
    const source = options.source === undefined ? undefined : validateSource(options.source);
    const infer = resolveInfer(options.infer, kind, this.options.model !== undefined);
    const oversize = validateOversize(options.oversize);
    const warnings: string[] = [];
    let items: FittedItem[];
    if (typeof input === "string") {
      items = fitText({ text: input }, this.maxContentChars, oversize);
    } else if (Array.isArray(input)) {
      const normalized = normalizeMessages(input);
      warnings.push(...normalized.warnings);
      items = normalized.messages.flatMap((message) =>
        fitText({ text: message.text, role: message.role, messageId: message.id }, this.maxContentChars, oversize),
      );
      if (items.length === 0) throw new EngramError("INVALID_CONTENT", "No message had any text content to store.");
    } else {
      throw new EngramError("INVALID_CONTENT", "add() takes a string or an array of chat messages.");
    }

    if (explicitId !== undefined && items.length !== 1) {
      throw new EngramError("INVALID_OPTIONS", `An explicit id names one record; this input makes ${items.length}.`);
    }

    const { history, writer } = this.open();
    if (this.connection) await this.modelGuard.beforeWrite(() => this.connection!.client());
    const now = this.clock();
    const records = items.map((item, position): MemoryRecord => {
      const id = explicitId ?? itemId(scope, kind, item);
      const itemMetadata = partMetadata(metadata, item);
      const record: MemoryRecord = {
        id,
        scope: { ...scope },
        kind,
        content: item.text,
        importance,
        // Messages of one call are 1 ms apart, so their order within the thread is kept.
        createdAt: now + position,
        updatedAt: now + position,
        lastAccessedAt: now + position,
        source: {},
        metadata: this.entityOptions.extract ? withEntities(itemMetadata, item.text) : itemMetadata,
      };
      if (item.role !== undefined) record.role = item.role;
      if (expiresAt !== undefined) record.expiresAt = expiresAt;
      if (scope.threadId !== undefined) record.source.threadId = scope.threadId;
      if (item.messageId !== undefined) record.source.messageIds = [item.messageId];
      if (source !== undefined) record.source = { ...record.source, ...source };
      return record;
    });
    // A record whose id is already live (stored, or queued and not yet drained) is a replay: keep
    // the stored one, write nothing.
    const fresh: MemoryRecord[] = [];
    const liveByHistory: MemoryRecord[] = [];
    for (const record of records) {
      const queued = writer.queued(scope.userId, record.id);
      const entries = history.forMemory(record.id, scope.userId);
      const live = queued ? queued.op === "upsert" : isLive(entries);
      if (!live) {
        fresh.push(record);
        continue;
      }
      if (!queued) liveByHistory.push(record);
      const firstAt = entries.find((entry) => entry.event === "ADD")?.at ?? (queued?.op === "upsert" ? queued.record.createdAt : undefined);
      if (firstAt !== undefined) record.createdAt = record.updatedAt = record.lastAccessedAt = firstAt;
    }
    for (const record of await this.goneFromStore(scope.userId, liveByHistory)) {
      record.createdAt = record.updatedAt = record.lastAccessedAt = now + records.indexOf(record);
      fresh.push(record);
    }
    if (fresh.length === 0) return { results: records, pending: writer.pendingCount(scope.userId) > 0, warnings };

    const vectors = await this.vectorsForAdd(fresh.map((record) => record.content));
    const ops: WriteOp[] = fresh.map((record, i) => ({
      op: "upsert",
      record,
      ...(vectors[i] !== undefined ? { embedding: vectors[i] } : {}),
      history: { memoryId: record.id, event: "ADD", oldContent: null, newContent: record.content, reason: "add", at: now },
    }));
    const pending = await this.write(scope.userId, ops);
    // Recorded durably here; the model calls run off this call's path (docs/facts.md).
    if (infer) await this.facts?.submit(scope, fresh, now);
    return { results: records, pending, warnings };
  }

  /** Memories of the user closest in meaning to `query`, best first, with their score (0..1). */
  async search(query: string, options: SearchOptions): Promise<ScoredMemory[]> {
    const scope = validateScope(options);
    const text = validateContent(query, this.maxContentChars);
    const limit = validateLimit(options.limit, "limit", 10, 1_000);
    const threshold = options.threshold ?? 0;
    if (typeof threshold !== "number" || !(threshold >= 0 && threshold <= 1)) {
      throw new EngramError("INVALID_OPTIONS", `threshold must be a number from 0 to 1, got ${describeValue(options.threshold)}.`);
    }
    const filter = this.storeFilter(scope, options.filters);
    const includeInvalid = validateIncludeInvalid(options.includeInvalid);
    const ranker =
      options.ranker === undefined
        ? this.ranker
        : resolveRanker({ ...this.ranker, ...validateOptionObject(options.ranker, "ranker", Object.keys(DEFAULT_RANKER), "{ recency: 0.1 }") });
    const { recall } = this.open();
    await this.replayPending(scope.userId);
    if (limit === 0) return [];
    const [vector] = await this.embed([text]);
    const now = this.clock();
    const ranked = boostByEntities(text, await recall.rank(scope.userId, text, vector!, limit, filter, now, ranker), this.entityOptions.boost);
    return ranked
      .filter((item) => !isExpired(item.record, now) && item.score >= threshold && (includeInvalid || isCurrent(item.record, now)))
      .slice(0, limit)
      .map((item) => ({ ...item.record, score: item.score, scoreParts: item.parts }));
  }

  /** One memory of the user, or null (also for ids of other users: nothing leaks). */
  async get(id: string, options: Scope): Promise<MemoryRecord | null> {
    const scope = validateScope(options);
    const memoryId = validateRecordId(id);
    const { store } = this.open();
    await this.replayPending(scope.userId);
    const [hit] = await store.get(scope.userId, [memoryId]);
    return hit && !isExpired(hit.record, this.clock()) ? hit.record : null;
  }

  /** The user's memories, newest first. */
  async getAll(options: GetAllOptions): Promise<MemoryRecord[]> {
    const scope = validateScope(options);
    const limit = validateLimit(options.limit, "limit", 100);
    const offset = validateLimit(options.offset, "offset", 0, Number.MAX_SAFE_INTEGER);
    const filter = this.storeFilter(scope, options.kind === undefined ? undefined : { kind: options.kind });
    const includeInvalid = validateIncludeInvalid(options.includeInvalid);
    const { store } = this.open();
    await this.replayPending(scope.userId);
    const now = this.clock();
    const records = await store.list(scope.userId, filter);
    return records.filter((record) => !isExpired(record, now) && (includeInvalid || isCurrent(record, now))).slice(offset, offset + limit);
  }

  /** Changes a memory's content (re-embedded) and/or importance, metadata or expiry. */
  async update(id: string, change: string | MemoryPatch, options: Scope): Promise<MemoryRecord> {
    const scope = validateScope(options);
    const memoryId = validateRecordId(id);
    const patch: MemoryPatch = typeof change === "string" ? { content: change } : change;
    if (patch === null || typeof patch !== "object") {
      throw new EngramError("INVALID_OPTIONS", "update() takes new content or a patch object.");
    }
    validateOptionObject(patch, "update()'s patch", ["content", "importance", "metadata", "expiresAt"], '{ content: "..." }');
    const content = patch.content === undefined ? undefined : validateContent(patch.content, this.maxContentChars);
    const importance = patch.importance === undefined ? undefined : validateImportance(patch.importance);
    const metadata = patch.metadata === undefined ? undefined : validateMetadata(patch.metadata);
    const expiresAt =
      patch.expiresAt === undefined || patch.expiresAt === null ? patch.expiresAt : validateTime(patch.expiresAt, "expiresAt");

    const { store } = this.open();
    await this.replayPending(scope.userId);
    const [hit] = await store.get(scope.userId, [memoryId], { embeddings: true });
    if (!hit) throw notFound(memoryId);
    const before = hit.record;
    const after: MemoryRecord = { ...before, scope: { ...before.scope }, source: { ...before.source }, updatedAt: this.clock() };
    if (content !== undefined) after.content = content;
    if (importance !== undefined) after.importance = importance;
    if (metadata !== undefined) after.metadata = metadata;
    // New words, new names: the entities follow the content unless the patch sets metadata.
    else if (content !== undefined && content !== before.content && this.entityOptions.extract) after.metadata = withEntities(withoutEntities(before.metadata), content);
    if (expiresAt === null) delete after.expiresAt;
    else if (expiresAt !== undefined) after.expiresAt = expiresAt;
    const embedding =
      content !== undefined && content !== before.content ? (await this.embed([content]))[0]! : hit.embedding ?? [];
    await this.write(scope.userId, [
      {
        op: "upsert",
        record: after,
        embedding,
        history: { memoryId, event: "UPDATE", oldContent: before.content, newContent: after.content, reason: "update", at: after.updatedAt },
      },
    ]);
    return after;
  }

  /** Deletes one memory of the user. */
  async delete(id: string, options: Scope): Promise<void> {
    const scope = validateScope(options);
    const memoryId = validateRecordId(id);
    const { store } = this.open();
    await this.replayPending(scope.userId);
    const [hit] = await store.get(scope.userId, [memoryId]);
    if (!hit) throw notFound(memoryId);
    await this.write(scope.userId, [
      {
        op: "delete",
        id: memoryId,
        history: { memoryId, event: "DELETE", oldContent: hit.record.content, newContent: null, reason: "delete", at: this.clock() },
      },
    ]);
  }

  /**
   * Erases the user from every place Engram writes: the store, the history log and the outbox.
   * Another user's memories are untouched.
   */
  async deleteAll(options: Scope): Promise<DeleteAllResult> {
    const scope = validateScope(options);
    const { store, history, db, writer } = this.open();
    const outbox = this.outbox!;
    // Waiting fact extraction first (a run in flight settles without writing), then pending writes.
    const extractions = await forgetFactJobs(this.facts, db, scope.userId);
    // Pending writes first, so that no replay can bring the user back afterwards; then let a drain
    // already in flight land, so that the store and history deletions below come after it.
    const pending = db.transaction(() => outbox.deleteUser(scope.userId))();
    await writer.idle();
    const deleted = await store.deleteUser(scope.userId);
    this.parts!.recall.forget(scope.userId);
    const erased = history.deleteUser(scope.userId);
    this.parts!.usage.deleteUser(scope.userId);
    return { deleted, history: erased, pending, ...(this.facts || extractions > 0 ? { extractions } : {}) };
  }

  /**
   * Forgetting, on demand: removes the user's expired records, merges near-duplicates of the same
   * kind (the kept one takes their sources), then evicts the lowest retention over `maxRecords`.
   * Every removal goes to history with its reason ("ttl", "dedupe", "cap"). The rules are in
   * `planForget` and docs/forgetting.md; `agentId` / `threadId` narrow what is looked at.
   */
  async forget(options: ForgetOptions): Promise<ForgetReport> {
    const scope = validateScope(options);
    const rules = resolveForgetRules(options);
    const { store } = this.open();
    await this.replayPending(scope.userId);
    const items = await loadForgetItems(store, scope.userId, this.storeFilter(scope, undefined));
    const now = this.clock();
    const plan = planForget(items, rules, now);
    const ops = forgetWriteOps(plan, items, now);
    const pending = ops.length > 0 && (await this.write(scope.userId, ops));
    return forgetReport(plan, pending);
  }

  /**
   * `forget`, off the caller's path: checks the options, then returns at once; the pass runs after
   * this process's pending writes of the user. Passes of one user never overlap, and requests made
   * while one runs fold into a single pass after it (a pass reads the user's records when it
   * starts). `flush()` and `close()` wait for passes in flight. The graph's `consolidate` node uses
   * this, so a forgetting pass (hundreds of ms for a large user) is not part of any turn.
   *
   * @param onError receives a failed pass (the store down, say); it is retried only when asked
   *   again. @default a process warning with code `ENGRAM_FORGET_FAILED`
   */
  scheduleForget(options: ForgetOptions, onError?: (error: unknown) => void): void {
    const scope = validateScope(options);
    resolveForgetRules(options);
    if (this.closing) throw new EngramError("CLOSED", "This Memory was closed.");
    const report = onError ?? ((error: unknown) => {
      process.emitWarning(`Engram's forgetting pass for a user failed: ${(error as Error)?.message ?? error}`, { code: "ENGRAM_FORGET_FAILED" });
    });
    this.upkeep.request(scope.userId, () => this.forget(options), report);
  }

  /**
   * Tokens of the model calls Engram made itself (fact extraction, reconciliation, and summaries
   * and LLM importance wired with `usageHook`), by kind and by user, from LangChain's
   * `usage_metadata`. Kept in the data folder, so every process sharing it sees the same figures.
   */
  async usage(options: UsageOptions = {}): Promise<UsageReport> {
    validateOptionObject(options, "usage() options", ["userId"], '{ userId: "alice" }');
    const userId = options.userId === undefined ? undefined : validateScope(options).userId;
    return this.open().usage.report(userId === undefined ? {} : { userId });
  }

  /**
   * A hook that counts a model call's tokens in `usage()`, for calls made outside `Memory`: pass
   * it as `onUsage` to `summarize` or `new LlmImportanceScorer(...)`.
   */
  usageHook(kind: UsageKind, userId?: string): UsageHook {
    const user = userId === undefined ? "" : validateScope({ userId }).userId;
    return this.open().usage.hook(kind, user);
  }

  /** Every version of a memory: created, updated, deleted, oldest first. */
  async history(id: string, options: Scope): Promise<HistoryEntry[]> {
    const scope = validateScope(options);
    const memoryId = validateRecordId(id);
    const { history, writer } = this.open();
    // A background write records its history when it reaches the store: apply the user's queued
    // writes first (an outage leaves them queued, and history shows what reached the store).
    if (writer.pendingCount(scope.userId) > 0) this.warnRefused(await writer.drain(scope.userId));
    await writer.idle();
    return history.forMemory(memoryId, scope.userId);
  }

  /** Replays writes waiting in the outbox. Throws `STORE_UNAVAILABLE` if the store is still down. */
  async flush(): Promise<FlushResult> {
    const { writer } = this.open();
    // Fact extraction waiting in the background runs now; its first failure is thrown below.
    const failures = (await this.facts?.flush()) ?? [];
    await this.upkeep.idle();
    const result = await writer.drain();
    this.warnRefused(result);
    if (result.error) throw result.error;
    if (failures[0]) throw failures[0].error;
    return { applied: result.applied, pending: result.pending };
  }

  /**
   * Ends a thread's session: the `messages` still in your window (LangChain messages) are
   * consolidated, so none is lost because the session ended before it left the window: exchanges
   * of importance 0.1 or more (heuristic scorer) are stored as episodes (one stored before is kept
   * once) and the whole window as a `summary` record naming the thread and the message ids. Memory
   * holds no window of its own: without `messages` nothing is stored. `createMemoryGraph` does
   * this itself with `graph.endSession(config)` or its `idleMs`.
   */
  async endSession(input: { userId: string; threadId: string; agentId?: string; messages?: readonly BaseMessage[] }): Promise<EndSessionResult> {
    const scope = validateScope(input);
    if (scope.threadId === undefined) throw new EngramError("INVALID_SCOPE", "endSession needs the threadId of the session that ended.");
    const messages = input.messages ?? [];
    if (!Array.isArray(messages) || messages.some((m) => typeof (m as Partial<BaseMessage>)?.getType !== "function")) {
      throw new EngramError("INVALID_CONTENT", "endSession takes LangChain messages (BaseMessage[]) in messages.");
    }
    return consolidateSession(this, scope, messages, "");
  }

  /** Releases what this instance started: the local server (when it started it) and the database. */
  close(): Promise<void> {
    return (this.closing ??= this.closeNow());
  }

  private async closeNow(): Promise<void> {
    // Forgetting passes asked for before close() run to their end first: their writes need the
    // database. (`closing` is set by now: scheduleForget refuses new passes.)
    await this.upkeep.idle();
    // Background drains scheduled but not started run now, while the database is open.
    const due = [...this.drainsDue];
    this.drainsDue.clear();
    for (const userId of due) await this.drainInBackground(userId);
    this.closed = true;
    const parts = this.parts;
    this.parts = undefined;
    // Fact extraction in flight is aborted; its jobs stay queued and resume on the next open.
    await this.facts?.close();
    // Background writes in flight finish (or stay in the outbox) before the database closes.
    await parts?.writer.idle();
    await parts?.store.close();
    await this.connection?.close();
    parts?.db.close();
  }

  private outbox?: Outbox<WriteOp>;

  private open(): Parts {
    if (this.closed) throw new EngramError("CLOSED", "This Memory was closed.");
    if (this.parts) return this.parts;
    const db = openDatabase(join(this.dataDir, "engram.sqlite"));
    try {
      this.modelGuard.checkFolder(db);
    } catch (error) {
      db.close();
      throw error;
    }
    const history = new HistoryLog({ db, clock: this.clock });
    this.outbox = new Outbox<WriteOp>({ db, clock: this.clock });
    const connection = this.connection;
    // Every write goes through the gate, which keeps recall's in-process indexes coherent with
    // other instances sharing the store (the argument is in gated_store.ts).
    const store = new GatedStore(
      this.options.store ??
        new ChromaStore({
          client: () => this.modelGuard.client(() => connection!.client()),
          prefix: this.prefix,
          describe: () => connection!.describe(),
          recover: () => connection!.recover(),
          // A collection gone from under us may have been replaced by `engram reembed`: the model is checked again.
          stale: () => this.modelGuard.recheck(),
        }),
      new WriteLeases(db),
    );
    const recall = new Recall(store, this.ranker, this.options.recallCache);
    const writer = new Writer(db, this.outbox, history, store, (texts) => this.embed(texts));
    this.parts = { db, store, history, writer, recall, usage: new UsageLog(db, this.clock) };
    if (this.options.model) {
      this.facts = new FactPipeline({
        model: this.options.model,
        db,
        store,
        writer,
        embed: (texts) => this.embed(texts),
        nearest: (scope, text, limit) => this.search(text, { ...scope, limit, filters: { kind: "fact" } }),
        clock: this.clock,
        offlineEntities: this.entityOptions.extract,
        options: this.options.facts,
        usage: (kind, userId) => this.parts?.usage.hook(kind, userId) ?? (() => undefined),
      });
      // Extraction jobs an earlier process left (it crashed or closed first) run again now.
      this.facts.resume();
    }
    return this.parts;
  }

  /**
   * Writes through the outbox. Returns true when the writes are not in the store yet: the store was
   * down, or (with `writes: "background"`) the drain runs after the call returns.
   */
  private async write(userId: string, ops: WriteOp[]): Promise<boolean> {
    const { writer } = this.open();
    const seqs = writer.enqueue(userId, ops);
    if (this.writes === "background") {
      this.scheduleDrain(userId);
      return true;
    }
    const result = await writer.drain(userId);
    // One of these writes refused on its own (its batch-mates were stored): the caller is told.
    this.warnRefused(result, seqs);
    const own = result.refused?.find((write) => seqs.includes(write.seq));
    if (own) throw own.error;
    if (!result.error) return false;
    // An outage, or a queued write the model could not embed yet: kept for the next drain.
    // CHROMA_EXITED: the local server kept dying; the writes wait for it like for any outage.
    if (result.error.code === "STORE_UNAVAILABLE" || result.error.code === "CHROMA_EXITED" || result.error.code === "EMBEDDING_FAILED") return true;
    // Refused for good (not an outage): drop these writes so they cannot block later ones.
    writer.discard(seqs);
    throw result.error;
  }

  /**
   * Drains the user's writes on the next turn of the event loop rather than now: what the caller
   * does next without waiting on I/O (the graph's next nodes, sending the reply) runs first, and
   * the writes of one turn (an exchange, then a summary) reach the model and the store as one batch.
   */
  private scheduleDrain(userId: string): void {
    if (this.drainsDue.has(userId)) return;
    this.drainsDue.add(userId);
    setImmediate(() => {
      // close() drains what is due itself; a drain already run by it has nothing left to do here.
      if (!this.drainsDue.delete(userId) || this.closed) return;
      void this.drainInBackground(userId);
    });
  }

  /**
   * The drain behind `writes: "background"`. An outage leaves the writes pending for the next call
   * or `flush()`; a refusal (not an outage: the input was validated, so this means a store that
   * cannot take the record, e.g. vectors of another size) drops them, so they cannot block later
   * writes, and says so as a process warning, since no caller is waiting to be told.
   */
  private async drainInBackground(userId: string): Promise<void> {
    if (this.closed) return; // the writes are durable in the outbox: the next open drains them
    let result: DrainResult;
    try {
      result = await this.open().writer.drain(userId);
    } catch (error) {
      // No caller awaits this drain: a failure must not become an unhandled rejection. The writes
      // stay in the outbox for the next call or flush().
      process.emitWarning(`Engram's background drain failed; the writes stay queued: ${(error as Error)?.message ?? error}`, { code: "ENGRAM_DRAIN_FAILED" });
      return;
    }
    this.warnRefused(result);
    if (!result.error || result.error.code === "STORE_UNAVAILABLE" || result.error.code === "CHROMA_EXITED") return;
    if (result.error.code === "EMBEDDING_FAILED" || result.error.code === "EMBEDDINGS_MISMATCH") {
      // The records are valid: they stay queued, and the next call or flush() embeds them again.
      process.emitWarning(`Engram could not embed ${result.failed?.length ?? 0} background write(s); they stay queued: ${result.error.message}`, {
        code: "ENGRAM_EMBEDDING_FAILED",
      });
      return;
    }
    this.parts?.writer.discard(result.failed ?? []);
    process.emitWarning(`Engram dropped ${result.failed?.length ?? 0} background write(s) the store refused: ${result.error.message}`, {
      code: "ENGRAM_WRITE_REFUSED",
    });
  }

  /**
   * Of records this data folder's history calls live, those no longer in the store: an instance on
   * another data folder sharing the server deleted them (its history is its own). They are added
   * again rather than taken for replays. During an outage, history is trusted.
   */
  private async goneFromStore(userId: string, records: MemoryRecord[]): Promise<MemoryRecord[]> {
    if (records.length === 0) return [];
    let stored: Set<string>;
    try {
      stored = new Set((await this.open().store.get(userId, records.map((record) => record.id))).map((hit) => hit.record.id));
    } catch (error) {
      if (error instanceof EngramError && error.code === "STORE_UNAVAILABLE") return [];
      throw error;
    }
    return records.filter((record) => !stored.has(record.id));
  }

  /** The next successful call replays what an outage left behind. */
  private async replayPending(userId: string): Promise<void> {
    const { writer } = this.open();
    if (writer.pendingCount(userId) === 0) return;
    const result = await writer.drain(userId);
    // A write the store refused was dropped (and reported): the read goes on without it.
    this.warnRefused(result);
    if (result.error) throw result.error;
  }

  /**
   * Says which writes a drain dropped because the store refused them one by one (their
   * batch-mates were stored), as a process warning: no caller may be waiting to be told. `own`
   * names writes whose caller is told by an error instead.
   */
  private warnRefused(result: DrainResult, own: readonly number[] = []): void {
    const others = (result.refused ?? []).filter((write) => !own.includes(write.seq));
    if (others.length === 0) return;
    process.emitWarning(
      `Engram dropped ${others.length} write(s) the store refused (record ${others.map((write) => write.id).join(", ")}); the writes queued with them were stored: ${others[0]!.error.message}`,
      { code: "ENGRAM_WRITE_REFUSED" },
    );
  }

  /**
   * The vectors an `add` writes with. With `writes: "background"` a text not embedded recently is
   * left without one (undefined) and embedded by the drain, after the call returns: the model is
   * the slowest part of a write (tens of ms per text on two cores). A recalled message is already
   * cached, so it costs nothing either way.
   */
  private async vectorsForAdd(texts: string[]): Promise<Array<number[] | undefined>> {
    if (this.writes !== "background") return this.embed(texts);
    return texts.map((text) => this.embeddingCache.get(text));
  }

  private async embed(texts: string[]): Promise<number[][]> {
    try {
      return await this.embeddingCache.embed(texts, (missing) => this.embeddings.embedDocuments(missing));
    } catch (cause) {
      if (cause instanceof EngramError) throw cause;
      throw new EngramError("EMBEDDING_FAILED", `Embedding failed: ${(cause as Error)?.message ?? cause}`, { cause });
    }
  }

  private storeFilter(scope: Scope, filters: MemoryFilters | undefined): StoreFilter {
    const filter: StoreFilter = {};
    if (scope.agentId !== undefined) filter.agentId = scope.agentId;
    if (scope.threadId !== undefined) filter.threadId = scope.threadId;
    if (filters === undefined) return filter;
    validateOptionObject(filters, "filters", ["kind", "createdAfter", "createdBefore", "metadata"], '{ kind: "fact" }');
    if (filters.kind !== undefined) {
      filter.kind = Array.isArray(filters.kind) ? filters.kind.map(validateKind) : validateKind(filters.kind);
    }
    if (filters.createdAfter !== undefined) filter.createdAfter = validateTime(filters.createdAfter, "createdAfter");
    if (filters.createdBefore !== undefined) filter.createdBefore = validateTime(filters.createdBefore, "createdBefore");
    if (filters.metadata !== undefined) filter.metadata = validateMetadata(filters.metadata);
    return filter;
  }
}

function isLive(entries: HistoryEntry[]): boolean {
  const last = entries[entries.length - 1];
  return last !== undefined && last.event !== "DELETE";
}

function isExpired(record: MemoryRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}

function notFound(id: string): EngramError {
  return new EngramError("NOT_FOUND", `No memory ${id} for this user.`, { details: { id } });
}

/** `add`'s `source`: a thread id and message ids, all non-empty strings. */
function validateSource(input: unknown): MemorySource {
  const raw = validateOptionObject(input, "source", ["threadId", "messageIds"], "{ threadId, messageIds }");
  const source: MemorySource = {};
  if (raw.threadId !== undefined) {
    if (typeof raw.threadId !== "string" || raw.threadId.trim() === "") {
      throw new EngramError("INVALID_OPTIONS", "source.threadId must be a non-empty string.");
    }
    source.threadId = checkIdText(raw.threadId, "source.threadId", "INVALID_OPTIONS");
  }
  if (raw.messageIds !== undefined) {
    const ids = raw.messageIds;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string" && id.trim() !== "")) {
      throw new EngramError("INVALID_OPTIONS", "source.messageIds must be an array of non-empty strings.");
    }
    source.messageIds = [...(ids as string[])];
  }
  return source;
}

function validateWrites(value: unknown): "sync" | "background" {
  if (value === undefined) return "background";
  if (value === "sync" || value === "background") return value;
  throw new EngramError("INVALID_OPTIONS", `writes must be "sync" or "background", got ${describeValue(value)}.`);
}
