/**
 * The Memory facade: mem0's API (`add`, `search`, `get`, `getAll`, `update`, `delete`, `deleteAll`,
 * `history`) over small parts, each with one job: records.ts (validation and record building),
 * replay.ts (replay detection), write_policy.ts (when writes return, what a failed drain keeps),
 * lifecycle.ts (options, lazy setup, closing), scheduling.ts (extraction and forgetting).
 */
import type { BaseMessage } from "@langchain/core/messages";
import { EngramError } from "../core/errors.js";
import { validateScope, validateScopeOptions } from "../core/scope.js";
import type { HistoryEntry, MemoryRecord, Scope, ScoredMemory } from "../core/types.js";
import { validateLimit, validateOptionObject, validateRecordId } from "../core/validate.js";
import { searchQuery } from "./recall.js";
import type { UsageHook } from "../core/token_usage.js";
import { isCurrent, validateIncludeInvalid } from "../consolidation/validity.js";
import { planForget, resolveForgetRules, type ForgetOptions, type ForgetReport } from "../consolidation/forget.js";
import { consolidateSession, type EndSessionOptions, type EndSessionResult } from "../consolidation/end_session.js";
import { boostByEntities } from "../scoring/entities.js";
import { addUpserts, extractionJobs, underIdLock, type AddWrite } from "./add_ops.js";
import { eraseFilings } from "./delete_all_filings.js";
import { resolveInfer } from "./facts.js";
import { forgetReport, forgetWriteOps, loadForgetItems, withoutChanged } from "./forget_ops.js";
import { MemoryLifecycle, resolveMemoryConfig, type MemoryConfig, type MemoryParts } from "./lifecycle.js";
import { withCurrentNames } from "./options.js";
import type {
  AddOptions,
  AddResult,
  DeleteAllResult,
  FlushResult,
  GetAllOptions,
  MemoryOptions,
  MemoryPatch,
  SearchOptions,
} from "./options.js";
import { checkPatch, isExpired, notFound, patched, planAdd, searchSettings, storeFilter } from "./records.js";
import { buildMany, planAddMany, type AddManyItem, type AddManyOptions } from "./add_many.js";
import { freshRecords } from "./replay.js";
import { Scheduling } from "./scheduling.js";
import { usageHook, usageReport, type UsageKind, type UsageOptions, type UsageReport } from "./usage.js";
import { DRAIN_LOCK, type WriteOp } from "./writer.js";
import { conditionIds, withQueued } from "./pending_overlay.js";
import { WritePolicy } from "./write_policy.js";
import { closeWatched } from "./close_watch.js";

/** The keys of `search()` and `getAll()` options (SearchOptions, GetAllOptions), scope included. */
const SCOPE_KEYS = ["userId", "agentId", "threadId"] as const;
const SEARCH_KEYS: readonly string[] = [...SCOPE_KEYS, "limit", "filters", "threshold", "ranker", "includeInvalid"];
const GET_ALL_KEYS: readonly string[] = [...SCOPE_KEYS, "kind", "limit", "offset", "includeInvalid"];
/** `forget`'s options besides the scope (ForgetRules). */
const FORGET_RULE_KEYS: readonly string[] = ["dedupeThreshold", "halfLifeDays", "maxRecords"];

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
 * Nothing starts in the constructor: the server, the model and the state open on first use.
 */
export class Memory {
  private readonly config: MemoryConfig;

  private readonly lifecycle: MemoryLifecycle;

  private readonly policy: WritePolicy;

  private readonly scheduling = new Scheduling();

  constructor(options: MemoryOptions = {}) {
    // `extractionModel` and `recallIndex` (or their deprecated names `model` and `recallCache`).
    this.config = resolveMemoryConfig(withCurrentNames(options));
    const model = this.config.options.model;
    this.lifecycle = new MemoryLifecycle(this.config, {
      opened: async (parts) => {
        if (!model) return;
        await this.scheduling.startExtraction({
          model,
          state: parts.state,
          store: parts.store,
          write: (userId, ops) => this.policy.write(userId, ops, "sync"),
          settle: (userId) => this.policy.replayPending(userId),
          embed: (texts) => this.config.embedder.embedToStore(texts),
          nearest: (scope, text, limit) => this.search(text, { ...scope, limit, filters: { kind: "fact" } }),
          clock: this.config.clock,
          offlineEntities: this.config.entities.extract,
          ...(this.config.options.facts ? { options: this.config.options.facts } : {}),
          usage: (kind, userId) => usageHook(() => parts.state.usage, kind, userId),
        });
      },
      settle: async () => {
        await this.scheduling.idle();
        await this.policy.drainDue();
      },
      stop: () => this.scheduling.close(),
    });
    this.policy = new WritePolicy({
      mode: this.config.writes,
      writer: async () => (await this.lifecycle.setup()).writer,
      closed: () => this.lifecycle.isClosed,
      history: async (userId, memoryIds) => [...(await (await this.lifecycle.setup()).state.history.forMemories(memoryIds, userId)).values()].flat(),
    });
  }

  /** The data folder (`options.dataDir`), so drop-ins can keep their files next to Memory's. */
  get dataFolder(): string {
    return this.config.dataDir;
  }

  /**
   * The backend of shared state this Memory uses (`options.state`), so drop-ins keep their
   * bookkeeping where Memory keeps its own (EngramCheckpointer's filing log in PostgreSQL state).
   * Reading it opens nothing.
   */
  get state(): MemoryLifecycle["state"] {
    return this.lifecycle.state;
  }

  /**
   * Stores a text, or chat messages (one record per message with text; LangChain messages or
   * `{ role, content }`). Ids are deterministic: adding the same thing twice stores it once.
   */
  async add(input: string | ReadonlyArray<unknown>, options: AddOptions): Promise<AddResult> {
    const scope = validateScope(options);
    const hasModel = this.config.options.model !== undefined;
    const plan = planAdd(input, options, scope, {
      maxContentChars: this.config.maxContentChars,
      extractEntities: this.config.entities.extract,
      infer: (kind) => resolveInfer(options.infer, kind, hasModel),
    });
    const { writer, history, recall, state } = await this.parts();
    if (this.config.connection) await this.config.modelGuard.beforeWrite(() => this.config.connection!.client());
    const now = plan.createdAt ?? this.config.clock();
    const records = plan.build(now);
    const warnings = [...plan.warnings];
    // The liveness read and the queueing are one step for an explicit id (add_ops.ts).
    return underIdLock(state.leases, scope.userId, options.id !== undefined, async () => {
      const renewed = new Set<MemoryRecord>();
      const fresh = await freshRecords({ writer, history, recall }, scope.userId, records, now, warnings, renewed);
      if (fresh.length === 0) return { results: records, pending: (await writer.pendingCount(scope.userId)) > 0, warnings };

      const writes: AddWrite[] = fresh.map((record) => ({
        record,
        scope,
        at: now,
        tagEntities: plan.tagEntities,
        infer: plan.infer,
        ...(renewed.has(record) ? { replaces: true } : {}),
      }));
      return { results: records, pending: await this.storeFresh(scope, writes), warnings };
    });
  }

  /**
   * Stores many texts of one user in one call: a bulk import (a chat log, an export of another
   * memory). Each item is what `add(content, options)` would store, with its own thread, role and
   * time (`createdAt`); every item is checked before anything is written (a bad one refuses the
   * call: `items[3]: ...`). The records go to the outbox in one transaction and reach the store in
   * large batches, so the per-call costs of `add` are paid once. Replays store nothing twice.
   */
  async addMany(items: ReadonlyArray<AddManyItem>, options: AddManyOptions): Promise<AddResult> {
    const scope = validateScope(options);
    const hasModel = this.config.options.model !== undefined;
    const planned = planAddMany(items, options, scope, {
      maxContentChars: this.config.maxContentChars,
      extractEntities: this.config.entities.extract,
      infer: (kind, infer) => resolveInfer(infer, kind, hasModel),
    });
    const { writer, history, recall, state } = await this.parts();
    if (planned.length === 0) return { results: [], pending: false, warnings: [] };
    if (this.config.connection) await this.config.modelGuard.beforeWrite(() => this.config.connection!.client());
    const now = this.config.clock();
    const repeated: string[] = [];
    const built = buildMany(planned, now, repeated);
    const records = built.flatMap((entry) => entry.records);
    const warnings = [...built.flatMap((entry, index) => entry.item.plan.warnings.map((warning) => `items[${index}]: ${warning}`)), ...repeated];
    return underIdLock(state.leases, scope.userId, items.some((item) => item?.id !== undefined), async () => {
      const renewed = new Set<MemoryRecord>();
      const fresh = new Set(await freshRecords({ writer, history, recall }, scope.userId, records, now, warnings, renewed));
      const writes: AddWrite[] = built.flatMap(({ item, records: own }) =>
        own.filter((record) => fresh.has(record)).map((record) => ({
          record,
          scope: item.scope,
          at: item.createdAt ?? now,
          tagEntities: item.plan.tagEntities,
          infer: item.plan.infer,
          ...(renewed.has(record) ? { replaces: true } : {}),
        })),
      );
      if (writes.length === 0) return { results: records, pending: (await writer.pendingCount(scope.userId)) > 0, warnings };
      return { results: records, pending: await this.storeFresh(scope, writes), warnings };
    });
  }

  /**
   * The last steps of `add` and `addMany`: the fresh records' upserts (vectors computed here with
   * `writes: "sync"`) written through the write policy, then their fact-extraction jobs, one per
   * scope, recorded durably (the model calls run off this call's path: docs/facts.md). Resolves to
   * whether writes of the user are still queued.
   */
  private async storeFresh(scope: Scope, writes: AddWrite[]): Promise<boolean> {
    const vectors = await this.config.embedder.forAdd(writes.map(({ record }) => record.content), this.policy.mode);
    const pending = await this.policy.write(scope.userId, addUpserts(writes, vectors));
    for (const job of extractionJobs(writes)) await this.scheduling.extract(job.scope, job.records);
    return pending;
  }

  /** Memories of the user closest in meaning to `query`, best first, with their score (0..1). */
  async search(query: string, options: SearchOptions): Promise<ScoredMemory[]> {
    // A key it does not know is refused, not ignored: `{ k: 3 }` (a retriever's name) returned 10.
    validateOptionObject(options, "search() options", SEARCH_KEYS, '{ userId: "alice", limit: 5 }');
    const scope = validateScope(options);
    const text = searchQuery(query, this.config.maxContentChars);
    const limit = validateLimit(options.limit, "limit", 10, 1_000);
    const { threshold, ranker } = searchSettings(options, this.config.ranker);
    const filter = storeFilter(scope, options.filters);
    const includeInvalid = validateIncludeInvalid(options.includeInvalid);
    const { recall, overlay } = await this.parts();
    // The user's queued writes are ranked with the stored memories, so the search never waits for
    // the drain; with more queued texts than one search should embed (a bulk import), it waits.
    const pending = await this.queuedFirst(scope.userId, overlay && (() => overlay.read(scope.userId)));
    if (limit === 0) return [];
    const [vector] = await this.config.embedder.embed([text]);
    const now = this.config.clock();
    const ranked = boostByEntities(text, await recall.rank(scope.userId, text, vector!, limit, filter, now, ranker, pending, includeInvalid), this.config.entities.boost);
    return ranked
      .filter((item) => !isExpired(item.record, now) && item.score >= threshold && (includeInvalid || isCurrent(item.record, now)))
      .slice(0, limit)
      .map((item) => ({ ...item.record, score: item.score, scoreParts: item.parts }));
  }

  /** One memory of the user, or null (also for ids of other users: nothing leaks). */
  async get(id: string, options: Scope): Promise<MemoryRecord | null> {
    const scope = validateScopeOptions(options, "get()");
    const memoryId = validateRecordId(id);
    const { recall, overlay } = await this.parts();
    // As search: the user's queued writes over the store (recall's index when current), without waiting for the drain.
    const queued = await this.queuedFirst(scope.userId, overlay && (() => overlay.records(scope.userId)));
    // With the records the queue's conditional writes are checked against (a merge's kept record, say).
    const found = await recall.find(scope.userId, [memoryId, ...(queued ? conditionIds(queued).filter((other) => other !== memoryId) : [])]);
    const record = queued ? withQueued(found, queued, {}).find((one) => one.id === memoryId) : found.find((one) => one.id === memoryId);
    return record && !isExpired(record, this.config.clock()) ? record : null;
  }

  /** The user's memories, newest first. */
  async getAll(options: GetAllOptions): Promise<MemoryRecord[]> {
    validateOptionObject(options, "getAll() options", GET_ALL_KEYS, '{ userId: "alice", limit: 50 }');
    const scope = validateScope(options);
    const limit = validateLimit(options.limit, "limit", 100);
    const offset = validateLimit(options.offset, "offset", 0, Number.MAX_SAFE_INTEGER);
    const filter = storeFilter(scope, options.kind === undefined ? undefined : { kind: options.kind });
    const includeInvalid = validateIncludeInvalid(options.includeInvalid);
    const { recall, overlay } = await this.parts();
    // As search: the user's queued writes over the stored records, so a turn's procedures read never
    // waits for the drain; those come from recall's index when it is current (a warm turn makes no
    // store round trip for them), else from the store.
    const queued = await this.queuedFirst(scope.userId, overlay && (() => overlay.records(scope.userId)));
    const now = this.config.clock();
    const stored = await recall.list(scope.userId, filter);
    // The records outside the list that the queue's conditional writes are checked against.
    const listed = new Set(stored.map((record) => record.id));
    const unlisted = queued ? conditionIds(queued).filter((id) => !listed.has(id)) : [];
    const others = unlisted.length > 0 ? await recall.find(scope.userId, unlisted) : [];
    const records = queued ? withQueued(stored, queued, filter, others) : stored;
    return records.filter((record) => !isExpired(record, now) && (includeInvalid || isCurrent(record, now))).slice(offset, offset + limit);
  }

  /**
   * What search, get and getAll do before reading the store: the user's queued writes, read from
   * the outbox first (memory/pending_overlay.ts has why that order keeps read-your-writes), with a
   * background drain started for them; or, without an overlay (`recallIndex.pending: "drain"`, or
   * more queued texts than a search should embed), the queue drained first and undefined returned:
   * the caller reads the store alone.
   */
  private async queuedFirst<T extends { rows: number }>(userId: string, read: (() => Promise<T | undefined>) | undefined): Promise<T | undefined> {
    const queued = read ? await read() : undefined;
    if (!queued) await this.policy.replayPending(userId);
    else if (queued.rows > 0) this.policy.replayInBackground(userId);
    return queued;
  }

  /** Changes a memory's content (re-embedded) and/or importance, metadata or expiry. */
  async update(id: string, change: string | MemoryPatch, options: Scope): Promise<MemoryRecord> {
    const scope = validateScopeOptions(options, "update()");
    const memoryId = validateRecordId(id);
    const patch = checkPatch(change, this.config.maxContentChars);
    const { store } = await this.parts();
    await this.policy.replayPending(scope.userId);
    const [hit] = await store.get(scope.userId, [memoryId], { embeddings: true });
    if (!hit) throw notFound(memoryId);
    const before = hit.record;
    const after = patched(before, patch, this.config.clock(), this.config.entities.extract);
    const embedding =
      patch.content !== undefined && patch.content !== before.content ? (await this.config.embedder.embedToStore([patch.content]))[0]! : hit.embedding ?? [];
    const { updated } = await this.policy.writeSeen(scope.userId, [
      {
        op: "upsert",
        record: after,
        embedding,
        history: { memoryId, event: "UPDATE", oldContent: before.content, newContent: after.content, reason: "update", at: after.updatedAt },
        // Another instance may delete it before this write drains: the drain then drops it.
        ifStored: true,
      },
    ]);
    // As stored: a forgetting merge that landed since the read gave it its sources (update_rebase.ts).
    return updated.get(0) ?? after;
  }

  /** Deletes one memory of the user. */
  async delete(id: string, options: Scope): Promise<void> {
    const scope = validateScopeOptions(options, "delete()");
    const memoryId = validateRecordId(id);
    const { store } = await this.parts();
    await this.policy.replayPending(scope.userId);
    const [hit] = await store.get(scope.userId, [memoryId]);
    if (!hit) throw notFound(memoryId);
    await this.policy.write(scope.userId, [
      {
        op: "delete",
        id: memoryId,
        history: { memoryId, event: "DELETE", oldContent: hit.record.content, newContent: null, reason: "delete", at: this.config.clock() },
      },
    ]);
  }

  /**
   * Erases the user from every place Engram writes: the store and every part of the shared state
   * (history, outbox, jobs, usage, the checkpointer's filing log). Another user's memories are untouched.
   */
  async deleteAll(options: Scope): Promise<DeleteAllResult> {
    const scope = validateScopeOptions(options, "deleteAll()");
    // `search`, `getAll` and `forget` narrow to an agent or thread; erasing the whole user when a
    // call names one would remove far more than asked.
    if (scope.agentId !== undefined || scope.threadId !== undefined) {
      throw new EngramError(
        "INVALID_SCOPE",
        "deleteAll erases the whole user (every agent and thread) and takes { userId } only; to remove one agent's or thread's memories, delete the ids getAll({ userId, agentId }) returns.",
      );
    }
    const { store, state, recall } = await this.parts();
    // The checkpointer's filings before anything: none read before this step writes after it.
    await eraseFilings(state, scope.userId);
    // Waiting fact extraction first (a run in flight settles without writing), then pending writes.
    // The "facts" lock taken there is released before the "drain" lock below (never the reverse order).
    const extractions = await this.scheduling.forgetUser(state, scope.userId);
    // Under the user's drain lock, held by every drain step of every instance (writer.ts): a drain
    // in flight lands first, and none can start on a batch read before the pending writes are
    // dropped, so no replay brings the user back after the store is erased.
    const [pending, deleted] = await state.leases.exclusive(scope.userId, DRAIN_LOCK, async () => {
      const dropped = await state.outbox<WriteOp>().deleteUser(scope.userId);
      return [dropped, await store.deleteUser(scope.userId)] as const;
    });
    recall.forget(scope.userId);
    const erased = await state.history.deleteUser(scope.userId);
    await state.deleteUser(scope.userId);
    return { deleted, history: erased, pending, ...(this.scheduling.extracting || extractions > 0 ? { extractions } : {}) };
  }

  /**
   * Forgetting, on demand: removes the user's expired records, merges near-duplicates of the same
   * kind (the kept one takes their sources), then evicts the lowest retention over `maxRecords`.
   * Every removal goes to history with its reason ("ttl", "dedupe", "cap"). The rules are in
   * `planForget` and docs/forgetting.md; `agentId` / `threadId` narrow what is looked at.
   */
  async forget(options: ForgetOptions): Promise<ForgetReport> {
    const scope = validateScopeOptions(options, "forget()", FORGET_RULE_KEYS);
    const rules = resolveForgetRules(options);
    const { store } = await this.parts();
    await this.policy.replayPending(scope.userId);
    const items = await loadForgetItems(store, scope.userId, storeFilter(scope, undefined));
    const now = this.config.clock();
    // Planning took a while: what the user changed meanwhile is left out of the plan.
    await this.policy.replayPending(scope.userId);
    // What lands after this check is caught by the drain: forget's writes carry `ifStoredAs`.
    const plan = await withoutChanged(store, scope.userId, planForget(items, rules, now), items);
    const ops = forgetWriteOps(plan, items, now);
    if (ops.length === 0) return forgetReport(plan, false);
    const { pending, dropped } = await this.policy.writeSeen(scope.userId, ops);
    // A removal the drain dropped (its records changed after the check above) did not happen. The
    // ops are the merges' updates, then the removals in plan order (forgetWriteOps).
    return forgetReport({ ...plan, removals: plan.removals.filter((_, i) => !dropped.has(plan.updates.length + i)) }, pending);
  }

  /**
   * `forget`, off the caller's path: checks the options, then returns at once; the pass runs after
   * this process's pending writes of the user. Passes of one user never overlap, and requests made
   * while one runs with the same scope and rules fold into a single pass after it (a pass reads the
   * user's records when it starts); one with another thread or other rules is a pass of its own.
   * `flush()` and `close()` wait for passes in flight. The graph's `consolidate` node uses this,
   * so a forgetting pass (hundreds of ms for a large user) is not part of any turn.
   *
   * @param onError receives a failed pass (the store down, say); it is retried only when asked
   *   again. @default a process warning with code `ENGRAM_FORGET_FAILED`
   */
  scheduleForget(options: ForgetOptions, onError?: (error: unknown) => void): void {
    const scope = validateScopeOptions(options, "scheduleForget()", FORGET_RULE_KEYS);
    const rules = resolveForgetRules(options);
    this.lifecycle.assertOpen();
    // The pass as asked now (a caller may change its object afterwards); requests fold only with the same.
    const pass: ForgetOptions = { ...scope, ...rules };
    const report = onError ?? ((error: unknown) => {
      process.emitWarning(`Engram's forgetting pass for a user failed: ${(error as Error)?.message ?? error}`, { code: "ENGRAM_FORGET_FAILED" });
    });
    const same = JSON.stringify([scope.agentId ?? null, scope.threadId ?? null, rules.dedupeThreshold, rules.halfLifeDays, rules.maxRecords]);
    this.scheduling.scheduleForget(scope.userId, () => this.forget(pass), report, same);
  }

  /**
   * Tokens of the model calls Engram made itself (fact extraction, reconciliation, and summaries
   * and LLM importance wired with `usageHook`), by kind and by user, from LangChain's
   * `usage_metadata`. Kept in the shared state, so every process sharing it sees the same figures.
   */
  async usage(options: UsageOptions = {}): Promise<UsageReport> {
    validateOptionObject(options, "usage() options", ["userId"], '{ userId: "alice" }');
    const userId = options.userId === undefined ? undefined : validateScope(options).userId;
    const { state } = await this.parts();
    return usageReport(await state.usage.totals(userId === undefined ? {} : { userId }));
  }

  /**
   * A hook that counts a model call's tokens in `usage()`, for calls made outside `Memory`: pass
   * it as `onUsage` to `summarize` or `new LlmImportanceScorer(...)`.
   */
  usageHook(kind: UsageKind, userId?: string): UsageHook {
    const user = userId === undefined ? "" : validateScope({ userId }).userId;
    if (this.lifecycle.isClosed) throw new EngramError("CLOSED", "This Memory was closed.");
    return usageHook(() => (this.lifecycle.isClosed ? undefined : this.lifecycle.state.usage), kind, user);
  }

  /** Every version of a memory: created, updated, deleted, oldest first. */
  async history(id: string, options: Scope): Promise<HistoryEntry[]> {
    const scope = validateScopeOptions(options, "history()");
    const memoryId = validateRecordId(id);
    const { history, writer } = await this.parts();
    // A background write records its history when it reaches the store: apply the user's queued
    // writes first (an outage leaves them queued, and history shows what reached the store).
    if ((await writer.pendingCount(scope.userId)) > 0) this.policy.warnRefused(await writer.drain(scope.userId));
    await writer.idle();
    return history.forMemory(memoryId, scope.userId);
  }

  /** Replays writes waiting in the outbox. Throws `STORE_UNAVAILABLE` if the store is still down. */
  async flush(): Promise<FlushResult> {
    const { writer } = await this.parts();
    // Fact extraction waiting in the background runs now (and forgetting passes finish); the first
    // failure of extraction is thrown below.
    const failures = await this.scheduling.flush();
    const result = await writer.drain();
    this.policy.warnRefused(result);
    if (result.error) throw result.error;
    // Texts the model refused alone stay queued (the rest was stored): flush did not store everything.
    if (result.held?.[0]) throw result.held[0].error;
    if (failures[0]) throw failures[0].error;
    return { applied: result.applied, pending: result.pending };
  }

  /**
   * Ends a thread's session: the `messages` still in your window (LangChain messages) are
   * consolidated, so none is lost because the session ended before it left the window: exchanges
   * of importance 0.1 or more (heuristic scorer) are stored as episodes (one stored before is kept
   * once) and the whole window as a `summary` record naming the thread and the message ids. Memory
   * holds no window of its own: without `messages` nothing is stored. `timeOf` tells when each
   * message was said, so a late end stores each turn at its own time (default: the end's time).
   * `createMemoryGraph` does this itself with `graph.endSession(config)` or its `idleMs`.
   */
  async endSession(input: {
    userId: string;
    threadId: string;
    agentId?: string;
    messages?: readonly BaseMessage[];
    timeOf?: EndSessionOptions["timeOf"];
  }): Promise<EndSessionResult> {
    const scope = validateScopeOptions(input, "endSession()", ["messages", "timeOf"]);
    if (scope.threadId === undefined) throw new EngramError("INVALID_SCOPE", "endSession needs the threadId of the session that ended.");
    const messages = input.messages ?? [];
    if (!Array.isArray(messages) || messages.some((m) => typeof (m as Partial<BaseMessage>)?.getType !== "function")) {
      throw new EngramError("INVALID_CONTENT", "endSession takes LangChain messages (BaseMessage[]) in messages.");
    }
    if (input.timeOf !== undefined && typeof input.timeOf !== "function") {
      throw new EngramError("INVALID_OPTIONS", "endSession's timeOf must be a function of a message.");
    }
    return consolidateSession(this, scope, messages, "", input.timeOf ? { timeOf: input.timeOf } : {});
  }

  /** The time by this Memory's `clock` (`options.clock`): what a write now is stamped with. */
  now(): number {
    return this.config.clock();
  }

  /**
   * Releases what this instance started: the local server (when it started it), the state (when it
   * opened it) and the default embeddings' worker threads (when no `embeddings` was given).
   */
  close(): Promise<void> {
    // Graphs made on this Memory stop their idle timers, which would keep it until they fire.
    closeWatched(this);
    return this.lifecycle.close();
  }

  /** The parts, with the history log under its own name. */
  private async parts(): Promise<MemoryParts & { history: MemoryParts["state"]["history"] }> {
    const parts = await this.lifecycle.setup();
    return { ...parts, history: parts.state.history };
  }
}
