import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { MemoryRecord } from "../core/types.js";
import { cosine, rankCandidates, type Candidate, type Ranked, type ResolvedRankerOptions } from "../scoring/ranker.js";
import { UserIndex } from "./user_index.js";
import type { EpisodicStore, StoreFilter } from "../store/types.js";

/**
 * Hybrid recall for one user: nearest vectors from the store plus BM25 matches from an in-process
 * lexical index, fused by the ranker. The lexical index of a user is built from the store on first
 * use, kept current by this process's writes, and rebuilt when the store's count for the user
 * differs from the index (another process wrote), so two processes never disagree for long.
 */
export class Recall {
  private readonly users = new Map<string, UserIndex>();

  constructor(
    private readonly store: EpisodicStore,
    private readonly ranker: ResolvedRankerOptions,
  ) {}

  async rank(userId: string, query: string, vector: number[], limit: number, filter: StoreFilter, now: number): Promise<Ranked[]> {
    const n = Math.max(this.ranker.candidates, limit);
    const needsIndex = this.ranker.lexical > 0 || this.ranker.neighbour > 0;
    const [dense, index] = await Promise.all([
      this.store.query(userId, vector, n, filter),
      needsIndex ? this.index(userId) : Promise.resolve(undefined),
    ]);
    const candidates = new Map<string, Candidate>();
    for (const hit of dense) candidates.set(hit.record.id, { record: hit.record, similarity: 1 - hit.distance, lexical: 0 });
    if (index && this.ranker.lexical > 0) {
      const hits = index.lexical.query(query, n);
      const missing = hits.filter((hit) => !candidates.has(hit.id)).map((hit) => hit.id);
      if (missing.length > 0) {
        // Lexical-only candidates still get a true semantic score, from their stored vectors.
        const fetched = await this.store.get(userId, missing, { embeddings: true, filter });
        for (const hit of fetched) {
          candidates.set(hit.record.id, { record: hit.record, similarity: cosine(vector, hit.embedding ?? []), lexical: 0 });
        }
      }
      for (const hit of hits) {
        const candidate = candidates.get(hit.id);
        if (candidate) candidate.lexical = hit.score;
      }
    }
    return rankCandidates([...candidates.values()], now, this.ranker, index ? (id) => index.neighbours(id) : undefined);
  }

  /** Keeps a built index current with this process's writes. */
  applied(userId: string, upserts: MemoryRecord[], deletes: string[]): void {
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
    if (cached && cached.size === count) return cached;
    const index = new UserIndex();
    index.upsert(await this.store.list(userId));
    this.users.set(userId, index);
    return index;
  }
}
