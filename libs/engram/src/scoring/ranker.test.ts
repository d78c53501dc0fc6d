import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { isEngramError } from "../core/errors.js";
import { LexicalIndex } from "./lexical_index.js";
import { DEFAULT_RANKER, rankCandidates, resolveRanker, type Candidate } from "./ranker.js";
import { tokenize } from "./tokenize.js";

const DAY = 86_400_000;

function record(id: string, content: string, createdAt = 0, importance = 0.5): MemoryRecord {
  return { id, scope: { userId: "u" }, kind: "episode", content, importance, createdAt, updatedAt: createdAt, lastAccessedAt: createdAt, source: {}, metadata: {} };
}

describe("rankCandidates", () => {
  it("lets a strong lexical match overtake a slightly closer vector", () => {
    const candidates: Candidate[] = [
      { record: record("a", "we talked about pets"), similarity: 0.52, lexical: 0 },
      { record: record("b", "my beagle Pixel"), similarity: 0.5, lexical: 7.3 },
    ];
    const ranked = rankCandidates(candidates, 0, resolveRanker());
    expect(ranked.map((r) => r.record.id)).toEqual(["b", "a"]);
    expect(ranked[0]!.parts.lexical).toBe(1);
    // With the lexical part switched off, the vector order wins again.
    const dense = rankCandidates(candidates, 0, resolveRanker({ lexical: 0 }));
    expect(dense.map((r) => r.record.id)).toEqual(["a", "b"]);
  });

  it("prefers the newer and the more important of otherwise equal memories", () => {
    const now = 100 * DAY;
    const older = { record: record("old", "x one", 10 * DAY), similarity: 0.6, lexical: 1 };
    const newer = { record: record("new", "x two", 99 * DAY), similarity: 0.6, lexical: 1 };
    expect(rankCandidates([older, newer], now, resolveRanker()).map((r) => r.record.id)).toEqual(["new", "old"]);
    const plain = { record: record("plain", "y one", 0, 0.2), similarity: 0.6, lexical: 1 };
    const vital = { record: record("vital", "y two", 0, 0.9), similarity: 0.6, lexical: 1 };
    expect(rankCandidates([plain, vital], 0, resolveRanker()).map((r) => r.record.id)).toEqual(["vital", "plain"]);
  });

  it("keeps scores within 0..1 and drops exact duplicates", () => {
    const ranked = rankCandidates(
      [
        { record: record("a", "Same words"), similarity: 1, lexical: 5 },
        { record: record("b", "same words "), similarity: 0.9, lexical: 5 },
        { record: record("c", "other"), similarity: -0.3, lexical: 0 },
      ],
      0,
      DEFAULT_RANKER,
    );
    expect(ranked.map((r) => r.record.id)).toEqual(["a", "c"]);
    for (const r of ranked) expect(r.score).toBeGreaterThanOrEqual(0);
    expect(ranked[0]!.score).toBeLessThanOrEqual(1);
  });

  it("lifts a memory whose neighbouring turn matches (conversational context)", () => {
    const question = { record: record("q", "Caroline: what did you do at the support group?"), similarity: 0.7, lexical: 6 };
    const answer = { record: record("a", "Melanie: I met people with stories like mine."), similarity: 0.3, lexical: 0 };
    const other = { record: record("o", "Melanie: painting relaxes me"), similarity: 0.35, lexical: 0 };
    const neighbours: Record<string, string[]> = { q: ["a"], a: ["q", "o"], o: ["a"] };
    const plain = rankCandidates([question, answer, other], 0, resolveRanker({ neighbour: 0, spread: 0 }));
    expect(plain.map((r) => r.record.id)).toEqual(["q", "o", "a"]);
    const withContext = rankCandidates([question, answer, other], 0, resolveRanker({ spread: 0 }), (id) => neighbours[id] ?? []);
    expect(withContext.map((r) => r.record.id)).toEqual(["q", "a", "o"]);
    // What the neighbour lends is its match with the query (relevance and lexical), not its recency.
    const { relevance, lexical, recency, importance } = DEFAULT_RANKER;
    const match = (relevance * 0.7 + lexical * 1) / (relevance + lexical + recency + importance);
    expect(withContext[1]!.parts.neighbour).toBeCloseTo(match, 10);
  });

  it("with spread, standardizes the cosines of the candidates so a narrow band still separates them", () => {
    // A static model's cosines crowd together: 0.84 against 0.80 is a clear lead, but raw it adds
    // only 0.04 against a lexical part of 0..1.
    const close = { record: record("close", "my grey cat Miso"), similarity: 0.84, lexical: 0 };
    const wordy = { record: record("wordy", "does she have a plan"), similarity: 0.8, lexical: 1 };
    const others = ["a", "b", "c", "d"].map((id) => ({ record: record(id, `filler ${id}`), similarity: 0.79, lexical: 2.2 }));
    const raw = rankCandidates([close, wordy, ...others], 0, resolveRanker({ lexical: 0.6, neighbour: 0, spread: 0 }));
    expect(raw[0]!.record.id).not.toBe("close");
    const spread = rankCandidates([close, wordy, ...others], 0, resolveRanker({ lexical: 0.6, neighbour: 0, spread: 4 }));
    expect(spread[0]!.record.id).toBe("close");
    expect(spread[0]!.parts.relevance).toBe(1);
    for (const r of spread) expect(r.parts.relevance).toBeGreaterThanOrEqual(0);
    // Equal cosines carry no information: every candidate gets the middle.
    const flat = rankCandidates(others, 0, resolveRanker({ spread: 4 }));
    expect(flat.every((r) => r.parts.relevance === 0.5)).toBe(true);
  });

  it("refuses negative or non-numeric weights", () => {
    expect(() => resolveRanker({ lexical: -1 })).toThrow();
    try {
      resolveRanker({ recency: Number.NaN });
    } catch (error) {
      expect(isEngramError(error, "INVALID_OPTIONS")).toBe(true);
    }
  });
});

describe("lexical index", () => {
  it("stems and drops stop words, so inflections meet", () => {
    expect(tokenize("She MOVED to the Berlin office")).toEqual(["move", "berlin", "offic"]);
  });

  it("ranks by BM25 and follows upserts and removals", () => {
    const index = new LexicalIndex();
    index.upsert([
      { id: "1", text: "Caroline went to the LGBTQ support group on Tuesday" },
      { id: "2", text: "Melanie painted a sunrise over the lake" },
      { id: "3", text: "Caroline said the support group was inspiring" },
    ]);
    expect(index.query("Which Tuesday did Caroline go to the support group?", 3).map((h) => h.id)).toEqual(["1", "3"]);
    expect(index.query("Melanie lake", 3).map((h) => h.id)).toEqual(["2"]);
    index.upsert([{ id: "1", text: "Caroline went hiking" }]);
    expect(index.query("support group", 3).map((h) => h.id)).toEqual(["3"]);
    index.remove(["3"]);
    expect(index.query("support group", 3)).toEqual([]);
    expect(index.size).toBe(2);
  });
});

describe("rankCandidates: time-aware and session parts", () => {
  const at = Date.UTC(2023, 4, 8, 13, 56);
  function inThread(id: string, content: string, createdAt: number, threadId: string): MemoryRecord {
    return { ...record(id, content, createdAt), scope: { userId: "u", threadId }, source: { threadId } };
  }

  it("lifts the turn that said 'yesterday' the day after the date the question names", () => {
    const candidates: Candidate[] = [
      { record: inThread("other", "I love painting sunsets", at - 40 * DAY, "s1"), similarity: 0.6, lexical: 2 },
      { record: inThread("said", "I went to a support group yesterday", at, "s2"), similarity: 0.5, lexical: 1 },
    ];
    const query = "What did Caroline do on 7 May 2023?";
    const plain = rankCandidates(candidates, at, resolveRanker());
    expect(plain.map((r) => r.record.id)).toEqual(["other", "said"]);
    // Without the query, or with a zero weight, the date plays no part.
    expect(rankCandidates(candidates, at, resolveRanker({ dates: 2 })).map((r) => r.record.id)).toEqual(["other", "said"]);
    expect(rankCandidates(candidates, at, resolveRanker({ dates: 0 }), undefined, query).map((r) => r.record.id)).toEqual(["other", "said"]);
    expect(rankCandidates(candidates, at, resolveRanker({ dates: 2 }), undefined, query).map((r) => r.record.id)).toEqual(["said", "other"]);
  });

  it("lifts a turn whose session holds a strong match", () => {
    const candidates: Candidate[] = [
      { record: inThread("match", "the camping trip was great", 0, "s1"), similarity: 0.8, lexical: 3 },
      { record: inThread("lonely", "trip planning", 0, "s2"), similarity: 0.42, lexical: 0 },
      { record: inThread("mate", "we saw the meteor shower", 1, "s1"), similarity: 0.4, lexical: 0 },
    ];
    const ids = (session: number) => rankCandidates(candidates, 0, resolveRanker({ session, neighbour: 0 })).map((r) => r.record.id);
    expect(ids(0)).toEqual(["match", "lonely", "mate"]);
    expect(ids(0.5)).toEqual(["match", "mate", "lonely"]);
  });
});

