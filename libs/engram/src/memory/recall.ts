import { rankCandidates, type Candidate, type Ranked, type ResolvedRankerOptions } from "../scoring/ranker.js";
import { matchesFilter } from "../store/filter_match.js";
import type { EpisodicStore, StoredRecord, StoreFilter } from "../store/types.js";
import { UserIndex } from "./user_index.js";

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
   * A user with more records than this is searched through the store's vector index (HNSW)
   * instead of an exact scan in process; BM25 and neighbours stay in process.
   * @default 20_000
   */
  exactSearchLimit?: number;
}

export const DEFAULT_RECALL_CACHE: Required<RecallCacheOptions> = { maxRecords: 100_000, exactSearchLimit: 20_000 };

/** One search, as `rank` received it. */
interface RankRequest {
  userId: string;
  query: string;
  vector: number[];
  limit: number;
  filter: StoreFilter;
  now: number;
  ranker: ResolvedRankerOptions;
}

/**
 * Hybrid recall for one user: nearest vectors plus BM25 matches, fused by the ranker. A user's
 * records, vectors and lexical index are loaded from the store on first use and kept current by
 * this process's writes, so a warm search needs one store round trip (the count that tells whether
 * another process wrote, in which case the index is rebuilt) instead of a vector query plus a
 * fetch of every lexical-only candidate's vector.
 */
export class Recall {
  /** Built indexes, least recently used first (a Map keeps insertion order). */
  private readonly users = new Map<string, UserIndex>();
  private readonly building = new Map<string, Promise<UserIndex>>();
  private readonly cache: Required<RecallCacheOptions>;

  constructor(
    private readonly store: EpisodicStore,
    private readonly ranker: ResolvedRankerOptions,
    cache: RecallCacheOptions = {},
  ) {
    this.cache = { ...DEFAULT_RECALL_CACHE, ...cache };
  }

  /** `ranker` overrides the instance's weights for this call only (a retriever's own weights). */
  async rank(
    userId: string,
    query: string,
    vector: number[],
    limit: number,
    filter: StoreFilter,
    now: number,
    ranker: ResolvedRankerOptions = this.ranker,
  ): Promise<Ranked[]> {
    const request: RankRequest = { userId, query, vector, limit, filter, now, ranker };
    const cached = this.users.get(userId);
    if (cached && !this.building.has(userId)) {
      // Warm user: rank on the kept index while the store counts the user's records, and keep the
      // result if the count says no other process wrote (the usual case). The yield lets the
      // count request leave before the ranking occupies the thread, so the round trip and the
      // ranking overlap instead of adding up.
      const counting = this.store.count(userId);
      counting.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
      await new Promise((resolve) => setImmediate(resolve));
      const ranked = await this.rankOn(cached, request);
      if ((await counting) === cached.size && this.users.get(userId) === cached) {
        this.users.delete(userId);
        this.users.set(userId, cached);
        return ranked;
      }
    }
    return this.rankOn(await this.index(userId), request);
  }

  private async rankOn(index: UserIndex, request: RankRequest): Promise<Ranked[]> {
    const { userId, query, vector, limit, filter, now, ranker } = request;
    const n = Math.max(ranker.candidates, limit);
    const accepts = (id: string): boolean => {
      const record = index.record(id);
      return record !== undefined && matchesFilter(record, filter);
    };
    const candidates = new Map<string, Candidate>();
    if (index.size <= this.cache.exactSearchLimit) {
      for (const hit of index.vectors.nearest(vector, n, accepts)) {
        candidates.set(hit.id, { record: index.record(hit.id)!, similarity: hit.similarity, lexical: 0 });
      }
    } else {
      for (const hit of await this.store.query(userId, vector, n, filter)) {
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
    return rankCandidates([...candidates.values()], now, ranker, (id) => index.neighbours(id));
  }

  /** Keeps a built index current with this process's writes. */
  applied(userId: string, upserts: StoredRecord[], deletes: string[]): void {
    const index = this.users.get(userId);
    if (!index) return;
    index.upsert(upserts);
    index.remove(deletes);
  }

  forget(userId: string): void {
    this.users.delete(userId);
  }

  private async index(userId: string): Promise<UserIndex> {
    const count = await this.store.count(userId);
    const cached = this.users.get(userId);
    if (cached && cached.size === count) {
      this.users.delete(userId);
      this.users.set(userId, cached);
      return cached;
    }
    // Concurrent searches of a cold user share one build.
    let build = this.building.get(userId);
    if (!build) {
      build = this.build(userId).finally(() => this.building.delete(userId));
      this.building.set(userId, build);
    }
    return build;
  }

  private async build(userId: string): Promise<UserIndex> {
    const index = new UserIndex();
    index.upsert(await this.store.scan(userId));
    this.users.delete(userId);
    this.users.set(userId, index);
    let total = 0;
    for (const kept of this.users.values()) total += kept.size;
    for (const [other, kept] of this.users) {
      if (total <= this.cache.maxRecords || other === userId) break;
      this.users.delete(other);
      total -= kept.size;
    }
    return index;
  }
}
