/**
 * Recall: ranks a user's memories for a query from an in-process index kept coherent with the
 * store (gated_store.ts).
 */
import { EngramError } from "../core/errors.js";
import { describeValue } from "../core/describe.js";
import { safeContent } from "../core/text.js";
import { cosine, rankCandidates, type Candidate, type Ranked, type ResolvedRankerOptions } from "../scoring/ranker.js";
import { matchesFilter } from "../store/filter_match.js";
import { sameRevision } from "../store/revision_log.js";
import type { MemoryRecord } from "../core/types.js";
import type { StoredRecord, StoreFilter, StoreRevision } from "../store/types.js";
import type { RevisionBump } from "../state/types.js";
import { STATE_REVISION, type GatedStore, type WriteListener } from "./gated_store.js";
import { drainedOver, type Drained, type PendingReads, type PendingRecord, type PendingView } from "./pending_overlay.js";
import { UserIndex } from "./user_index.js";
import { stripUndefined } from "../core/validate.js";
import { isCurrent } from "../consolidation/validity.js";
import { isExpired } from "./records.js";

/** How much recall keeps in process. */
export interface RecallCacheOptions {
  /**
   * Most records kept in process over all users (records, vectors and BM25 postings: about 2.5 KB
   * per record with 512-dimension vectors, so ~250 MB at the default). Users searched least
   * recently leave first, and are rebuilt from the store on their next search.
   * @default 100_000
   */
  maxRecords?: number;
  /**
   * Most users whose index is kept in process, whatever their size. An index costs about 1.6 KB
   * even with no records, so a server that sees many users once each (most with few or no
   * memories) would otherwise keep one per user for ever, under a `maxRecords` those users never
   * reach. Users searched least recently leave first, and are rebuilt from the store on their next
   * search.
   * @default 10_000
   */
  maxUsers?: number;
  /**
   * A user with more records than this is searched through the store's vector index (HNSW)
   * instead of an exact scan in process; BM25 and neighbours stay in process.
   * @default 20_000
   */
  exactSearchLimit?: number;
  /**
   * How a search sees the user's writes still queued for the store (`writes: "background"`, or the
   * store down): `"overlay"` ranks them from the shared state's outbox with the stored memories,
   * so a search never waits for the drain and still finds every acknowledged write, in any process
   * sharing the state (memory/pending_overlay.ts); `"drain"` applies them to the store first and
   * waits, which under write load makes a search wait for its user's whole queue.
   * @default "overlay"
   */
  pending?: PendingReads;
  /**
   * Where a warm search checks that its in-process index is current (memory/gated_store.ts has the
   * argument): `"state"` reads the user's revision from the shared state, next to the outbox read,
   * with no store round trip; it sees the writes of every instance on the same state only, so use
   * it when every instance writing the store shares this state (one data folder, or replicas on
   * one PostgreSQL). `"store"` reads the store's revision log: a round trip per search, queued
   * behind the drains' writes on a busy server, that sees every writer of the store.
   * `"auto"`: `"state"` when the store is the data folder's own server (no `chroma.url`,
   * `chroma.client`, `chroma.path` or `store`, so every writer opens this folder), else `"store"`
   * (two data folders may share one server by url).
   * @default "auto"
   */
  revisions?: RevisionSource;
}

/** Where recall reads a user's revision: see {@link RecallCacheOptions.revisions}. */
export type RevisionSource = "auto" | "state" | "store";

export const DEFAULT_RECALL_CACHE: Required<RecallCacheOptions> = { maxRecords: 100_000, maxUsers: 10_000, exactSearchLimit: 20_000, pending: "overlay", revisions: "auto" };

/** Checks `recallIndex`'s sizes: positive integers (`maxRecords` and `maxUsers` bound the process's memory). */
export function validateRecallSizes(options: RecallCacheOptions | undefined): void {
  for (const key of ["maxRecords", "maxUsers", "exactSearchLimit"] as const) {
    const value: unknown = options?.[key];
    if (value === undefined || (typeof value === "number" && Number.isSafeInteger(value) && value >= 1)) continue;
    throw new EngramError("INVALID_OPTIONS", `recallIndex.${key} must be a positive integer, got ${describeValue(value)}.`);
  }
}

/**
 * A search's query, checked and repaired as content is, then cut to its first `maxChars`
 * characters (never inside a surrogate pair) rather than refused: a query is not stored, and a
 * retriever given a message with a pasted document failed the whole chain with CONTENT_TOO_LARGE.
 * The beginning, as the agent doors read the first `maxQueryChars` of the latest message.
 */
export function searchQuery(query: unknown, maxChars: number): string {
  const text = safeContent(query, "The query");
  if (text.length <= maxChars) return text;
  const high = text.charCodeAt(maxChars - 1);
  return text.slice(0, high >= 0xd800 && high <= 0xdbff ? maxChars - 1 : maxChars).trimEnd();
}

/** Checks `recallIndex.revisions`. */
export function validateRevisionSource(value: unknown): RevisionSource {
  if (value === undefined) return "auto";
  if (value === "auto" || value === "state" || value === "store") return value;
  throw new EngramError("INVALID_OPTIONS", `recallIndex.revisions must be "auto", "state" or "store", got ${describeValue(value)}.`);
}

/** One search, as `rank` received it. */
interface RankRequest {
  userId: string;
  query: string;
  vector: number[];
  limit: number;
  filter: StoreFilter;
  now: number;
  ranker: ResolvedRankerOptions;
  pending?: PendingView;
  includeInvalid: boolean;
}

/** A built index and the store revision it reflects (see memory/gated_store.ts). */
interface Kept {
  index: UserIndex;
  expected: StoreRevision;
}

/**
 * Hybrid recall for one user: nearest vectors plus BM25 matches, fused by the ranker. A user's
 * records, vectors and lexical index are loaded from the store on first use and kept current by
 * this process's writes, so a warm search needs one store round trip (the user's revision, which
 * tells whether any other instance wrote since, in which case the index is rebuilt) instead of a
 * vector query plus a fetch of every lexical-only candidate's vector.
 */
export class Recall implements WriteListener {
  /** Built indexes, least recently used first (a Map keeps insertion order). */
  private readonly users = new Map<string, Kept>();
  private readonly building = new Map<string, Promise<Kept>>();
  private readonly cache: Required<RecallCacheOptions>;

  /**
   * @param writes told of every write this process makes to the store, after recall (the store has
   * one listener): the pending overlay, whose kept vectors of drained rows leave then.
   */
  constructor(
    private readonly store: GatedStore,
    private readonly ranker: ResolvedRankerOptions,
    cache: RecallCacheOptions = {},
    private readonly writes?: Pick<WriteListener, "applied" | "erased">,
  ) {
    // The sizes were checked when the Memory was made (lifecycle.ts).
    this.cache = { ...DEFAULT_RECALL_CACHE, ...stripUndefined(cache) };
    store.listen(this);
  }

  /**
   * `ranker` overrides the instance's weights for this call only (a retriever's own weights).
   * `pending`: the user's queued writes, read from the outbox before this call (pending_overlay.ts):
   * ranked with the stored memories, their deletes hiding stored ones. Memories past their expiry,
   * and facts no longer valid unless `includeInvalid`, are never candidates (search hides them):
   * ranked, they took candidate places, and the copy of a text kept as the best of its
   * duplicates could be one of them, hiding the live copy with it.
   */
  async rank(
    userId: string,
    query: string,
    vector: number[],
    limit: number,
    filter: StoreFilter,
    now: number,
    ranker: ResolvedRankerOptions = this.ranker,
    pending?: PendingView,
    includeInvalid = false,
  ): Promise<Ranked[]> {
    const request: RankRequest = { userId, query, vector, limit, filter, now, ranker, includeInvalid, ...(pending && pending.rows > 0 ? { pending } : {}) };
    const cached = this.users.get(userId);
    if (cached && !this.building.has(userId)) {
      // Warm user: rank on the kept index while the store reads the user's revision, and keep the
      // result if the revision says no other instance wrote (the usual case). The yield lets the
      // request leave before the ranking occupies the thread, so the round trip and the ranking
      // overlap instead of adding up. `expected` is copied before the read (the argument in
      // memory/gated_store.ts needs it so).
      const expected = { ...cached.expected };
      const reading = this.store.revision(userId);
      reading.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
      await new Promise((resolve) => setImmediate(resolve));
      const ranked = await this.rankOn(cached.index, request);
      if (this.current(cached, expected, await reading) && this.users.get(userId) === cached) {
        this.users.delete(userId);
        this.users.set(userId, cached);
        return ranked;
      }
    }
    return this.rankOn(await this.index(userId), request);
  }

  /**
   * The user's kept index if it reflects every write acknowledged before this call (the revision
   * read here says no other instance wrote since it was built: the argument in gated_store.ts), else
   * undefined, and the caller reads the store. Nothing is built: a cold user costs one revision read.
   * Callers that also read the outbox read it before calling this, as search does.
   */
  async currentIndex(userId: string): Promise<UserIndex | undefined> {
    const cached = this.users.get(userId);
    if (!cached || this.building.has(userId)) return undefined;
    const expected = { ...cached.expected };
    const read = await this.store.revision(userId);
    return this.current(cached, expected, read) && this.users.get(userId) === cached ? cached.index : undefined;
  }

  /**
   * The user's stored records matching `filter`, newest first (as the store lists them): from the
   * kept index when it is current (a warm turn's procedures read, `getAll`, makes no store round
   * trip), else from the store.
   */
  async list(userId: string, filter: StoreFilter): Promise<MemoryRecord[]> {
    return (await this.currentIndex(userId))?.list(filter) ?? this.store.list(userId, filter);
  }

  /**
   * Which of `ids` the store holds, as records (`get`, and `add`'s replay check of records the
   * history calls live): from the kept index when it is current, else from the store.
   */
  async find(userId: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    const index = await this.currentIndex(userId);
    if (index) return ids.flatMap((id) => index.stored(id) ?? []);
    return (await this.store.get(userId, [...ids])).map((hit) => hit.record);
  }

  /** Whether a kept index still reflects the store, given the revision just read. */
  private current(kept: Kept, expected: StoreRevision, read: StoreRevision): boolean {
    // A store without revisions: the record count is all there is (the weaker check).
    if (!this.store.tracksRevisions) return read.count === kept.index.size;
    return sameRevision(expected, read);
  }

  private async rankOn(index: UserIndex, request: RankRequest): Promise<Ranked[]> {
    const { userId, query, vector, limit, filter, now, ranker } = request;
    const n = Math.max(ranker.candidates, limit);
    const visible = visibleAt(request);
    // The queue as the drain will leave it over these stored records (a write it will drop changes nothing).
    const pending = request.pending && drainedOver(request.pending.writes, (id) => index.record(id));
    // A stored memory with a queued write that lands is the queued version (an upsert) or gone (a delete).
    const queued = (id: string): boolean => pending !== undefined && (pending.deleted.has(id) || pending.upserts.has(id));
    const accepts = (id: string): boolean => {
      if (queued(id)) return false;
      const record = index.record(id);
      return record !== undefined && matchesFilter(record, filter) && visible(record);
    };
    const candidates = new Map<string, Candidate>();
    if (index.size <= this.cache.exactSearchLimit) {
      for (const hit of index.vectors.nearest(vector, n, accepts)) {
        candidates.set(hit.id, { record: index.record(hit.id)!, similarity: hit.similarity, lexical: 0 });
      }
    } else {
      for (const hit of await this.store.query(userId, vector, n, filter)) {
        if (queued(hit.record.id) || !visible(hit.record)) continue;
        candidates.set(hit.record.id, { record: hit.record, similarity: 1 - hit.distance, lexical: 0 });
      }
    }
    if (ranker.lexical > 0) {
      for (const hit of index.lexical.query(query, n)) {
        let candidate = candidates.get(hit.id);
        if (!candidate && accepts(hit.id)) {
          // Lexical-only candidates still get a true semantic score, from their kept vectors.
          candidate = { record: index.record(hit.id)!, similarity: index.vectors.similarity(vector, hit.id) ?? 0, lexical: 0 };
          candidates.set(hit.id, candidate);
        }
        if (candidate) candidate.lexical = hit.score;
      }
    }
    if (!pending) return rankCandidates([...candidates.values()], now, ranker, (id) => index.neighbours(id), query);
    const landed = landing(pending, vector.length);
    for (const candidate of queuedCandidates(index, request, landed, n)) candidates.set(candidate.record.id, candidate);
    // Neighbouring turns as they will be once the queue is drained, so a memory scores the same
    // before and after the drain (a turn's neighbour may still be queued, or replaced).
    const neighbours = index.neighboursWith(landed.map((item) => item.record), pending.deleted);
    return rankCandidates([...candidates.values()], now, ranker, neighbours, query);
  }

  /**
   * Keeps a built index current with this process's writes. Called by the store's gate right after
   * the write was acknowledged, once per write call (each advanced the revision by one).
   */
  applied(userId: string, upserts: StoredRecord[], deletes: string[], bump?: RevisionBump): void {
    this.writes?.applied(userId, upserts, deletes);
    const kept = this.users.get(userId);
    if (!kept) return;
    kept.index.upsert(upserts);
    kept.index.remove(deletes);
    // Revisions read from the store (or none yet): one more write of this process, counted.
    if (!bump || kept.expected.log !== STATE_REVISION) {
      kept.expected = { log: kept.expected.log, count: kept.expected.count + 1 };
      return;
    }
    // The state's revision moved from what the index expected to `after` by this write alone;
    // any other value before it means another write came between: the index is rebuilt.
    const mine = kept.expected.log === STATE_REVISION && kept.expected.count === bump.before;
    kept.expected = mine ? { log: STATE_REVISION, count: bump.after } : { log: null, count: 0 };
  }

  erased(userId: string): void {
    this.writes?.erased(userId);
    this.forget(userId);
  }

  forget(userId: string): void {
    this.users.delete(userId);
  }

  private async index(userId: string): Promise<UserIndex> {
    const cached = this.users.get(userId);
    if (cached && !this.building.has(userId)) {
      const expected = { ...cached.expected };
      if (this.current(cached, expected, await this.store.revision(userId)) && this.users.get(userId) === cached) {
        this.users.delete(userId);
        this.users.set(userId, cached);
        return cached.index;
      }
    }
    // Concurrent searches of a cold user share one build.
    let build = this.building.get(userId);
    if (!build) {
      build = this.build(userId).finally(() => this.building.delete(userId));
      this.building.set(userId, build);
    }
    return (await build).index;
  }

  /** Reads the revision, then the records, with none of this process's writes of the user in between. */
  private build(userId: string): Promise<Kept> {
    return this.store.exclusive(userId, async () => {
      const expected = await this.store.baseline(userId);
      const index = new UserIndex();
      index.upsert(await this.store.scan(userId));
      const kept: Kept = { index, expected };
      this.users.delete(userId);
      this.users.set(userId, kept);
      let total = 0;
      for (const other of this.users.values()) total += other.index.size;
      // Least recently searched first; the user just built stays even alone over the limits.
      for (const [other, { index: otherIndex }] of this.users) {
        if ((total <= this.cache.maxRecords && this.users.size <= this.cache.maxUsers) || other === userId) break;
        this.users.delete(other);
        total -= otherIndex.size;
      }
      return kept;
    });
  }
}

/** Whether search shows a record at the request's time: not expired, and current unless `includeInvalid`. */
function visibleAt({ now, includeInvalid }: Pick<RankRequest, "now" | "includeInvalid">): (record: MemoryRecord) => boolean {
  return (record) => !isExpired(record, now) && (includeInvalid || isCurrent(record, now));
}

/**
 * The queued upserts the drain will store ({@link drainedOver} left out those it will drop),
 * whatever the request's filter, less a vector of another size than the query's (the store refuses
 * it beside the others). One with no vector is a text the model refused so far (the overlay gives
 * it none; it waits in the outbox until the model takes it): it is ranked by its words alone.
 */
function landing(pending: Drained<PendingRecord>, dimensions: number): PendingRecord[] {
  return [...pending.upserts.values()].filter((item) => item.vector.length === dimensions || item.vector.length === 0);
}

/**
 * The queued upserts ({@link landing}) that can answer the request, scored like stored candidates:
 * cosine with the query, and BM25 against the user's stored memories (pending_lexical.ts); the best
 * `n` by each, as each retriever contributes its best `n` of the stored ones.
 */
function queuedCandidates(index: UserIndex, request: RankRequest, landed: readonly PendingRecord[], n: number): Candidate[] {
  const { query, vector, filter, ranker } = request;
  const visible = visibleAt(request);
  const live = landed.filter((item) => matchesFilter(item.record, filter) && visible(item.record));
  if (live.length === 0) return [];
  const lexical = ranker.lexical > 0 ? index.lexicalStats().score(query, live.map((item) => item.record.content)) : live.map(() => 0);
  const scored = live.map((item, i): Candidate => ({ record: item.record, similarity: item.vector.length === 0 ? 0 : cosine(vector, item.vector), lexical: lexical[i]! }));
  if (scored.length <= n) return scored;
  const bySimilarity = [...scored].sort((a, b) => b.similarity - a.similarity).slice(0, n);
  const byLexical = scored.filter((c) => c.lexical > 0).sort((a, b) => b.lexical - a.lexical).slice(0, n);
  return [...new Set([...bySimilarity, ...byLexical])];
}
