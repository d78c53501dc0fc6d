import { describe, expect, it } from "@jest/globals";
import type { MemoryKind, MemoryRecord } from "../core/types.js";
import { pageOf, statsOf, threadOf } from "./records_view.js";
import { listQuerySchema } from "./schemas.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 31, 12);
const KINDS: MemoryKind[] = ["episode", "fact", "summary", "procedure"];

/** 100,000 records of one user, newest first (the store's order), over 30 days, 10 threads. */
function records(n = 100_000): MemoryRecord[] {
  return Array.from({ length: n }, (_, i): MemoryRecord => {
    const createdAt = NOW - Math.floor((i / n) * 30 * DAY);
    const record: MemoryRecord = {
      id: `m${i}`,
      scope: { userId: "u", threadId: `t${i % 10}` },
      kind: KINDS[i % 4]!,
      content: i % 1000 === 0 ? `Needle ${i} in the haystack` : `Memory number ${i}`,
      importance: (i % 100) / 100,
      createdAt,
      updatedAt: createdAt,
      lastAccessedAt: createdAt,
      source: {},
      metadata: {},
    };
    if (i % 4 === 1 && i % 8 === 1) record.metadata.validUntil = NOW - DAY; // half the facts ended
    return record;
  });
}

const all = records();
const query = (input: Record<string, string>) => listQuerySchema.parse(input);

describe("the inspector's list over a 100,000-record user", () => {
  it("pages through every record exactly once, newest first", () => {
    const seen = new Set<string>();
    let previous = Infinity;
    let outOfOrder = 0;
    for (let page = 1; page <= 200; page += 1) {
      const view = pageOf(all, query({ page: String(page), size: "500" }), NOW);
      expect(view).toMatchObject({ page, pages: 200, matching: 100_000 });
      for (const record of view.records) {
        if (record.createdAt > previous) outOfOrder += 1;
        previous = record.createdAt;
        seen.add(record.id);
      }
    }
    expect(outOfOrder).toBe(0);
    expect(seen.size).toBe(100_000);
    // A page past the end shows the last one.
    expect(pageOf(all, query({ page: "999", size: "500" }), NOW).page).toBe(200);
  });

  it("filters by kind, thread, validity and text, and sorts by importance or age", () => {
    const facts = pageOf(all, query({ kind: "fact", size: "10" }), NOW);
    expect(facts.matching).toBe(25_000);
    expect(facts.records.every((record) => record.kind === "fact")).toBe(true);
    expect(pageOf(all, query({ kind: "fact", validity: "invalid" }), NOW).matching).toBe(12_500);
    expect(pageOf(all, query({ validity: "current" }), NOW).matching).toBe(87_500);
    expect(pageOf(all, query({ thread: "t3" }), NOW).matching).toBe(10_000);
    const needles = pageOf(all, query({ text: "NEEDLE", size: "500" }), NOW);
    expect(needles.matching).toBe(100);
    expect(needles.records[0]!.content).toBe("Needle 0 in the haystack");
    const important = pageOf(all, query({ sort: "importance", size: "3" }), NOW).records.map((record) => record.importance);
    expect(important).toEqual([0.99, 0.99, 0.99]);
    const oldest = pageOf(all, query({ sort: "oldest", size: "1" }), NOW).records[0]!;
    expect(oldest.id).toBe("m99999");
    // The caller's array keeps the store's order: sorting works on a copy.
    expect(all[0]!.id).toBe("m0");
  });

  it("counts kinds, days, importance bins, threads and ended facts for the charts", () => {
    const stats = statsOf(all, NOW);
    expect(stats.total).toBe(100_000);
    expect(stats.byKind).toEqual({ episode: 25_000, fact: 25_000, summary: 25_000, procedure: 25_000 });
    expect(stats.importance).toEqual(new Array(10).fill(10_000));
    expect(stats.perDay).toHaveLength(31); // 30 days back from noon touch 31 dates
    expect(stats.perDay.reduce((sum, day) => sum + day.count, 0)).toBe(100_000);
    expect(stats.threads).toHaveLength(10);
    expect(stats.invalid).toBe(12_500);
    expect(threadOf(all.slice(0, 40), "t2").map((record) => record.id)).toEqual(["m32", "m22", "m12", "m2"]);
  });

  it("refuses pages and sizes out of range (zod)", () => {
    for (const input of [{ size: "0" }, { size: "501" }, { page: "0" }, { sort: "random" }, { validity: "maybe" }, { kind: "note" }]) {
      expect(listQuerySchema.safeParse(input).success).toBe(false);
    }
  });
});
