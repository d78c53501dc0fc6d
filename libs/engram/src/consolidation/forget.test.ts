import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { isEngramError, type EngramErrorCode } from "../core/errors.js";
import { MEMORY_KINDS, type MemoryKind, type MemoryRecord } from "../core/types.js";
import { DEFAULT_FORGET_RULES, planForget, resolveForgetRules, retention, type ForgetItem, type ForgetPlan, type ForgetRules } from "./forget.js";
import { COSINE_TOLERANCE } from "./near_duplicates.js";

const DAY = 86_400_000;
const NOW = 1_000 * DAY;

/** A unit vector at `degrees` in the plane of the first two axes: cosine of two is cos(difference). */
function at(degrees: number): number[] {
  const r = (degrees * Math.PI) / 180;
  return [Math.cos(r), Math.sin(r), 0, 0, 0, 0, 0, 0];
}

function item(id: string, degrees: number, fields: Partial<MemoryRecord> = {}): ForgetItem {
  const record: MemoryRecord = {
    id,
    scope: { userId: "u" },
    kind: "episode",
    content: `content of ${id}`,
    importance: 0.5,
    createdAt: NOW - DAY,
    updatedAt: NOW - DAY,
    lastAccessedAt: NOW - DAY,
    source: {},
    metadata: {},
    ...fields,
  };
  return { record, embedding: at(degrees) };
}

function reasons(plan: ForgetPlan): Record<string, string> {
  return Object.fromEntries(plan.removals.map((removal) => [removal.record.id, removal.reason]));
}

function expectCode(run: () => unknown, code: EngramErrorCode): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(isEngramError(caught, code) ? caught.code : caught).toBe(code);
}

describe("planForget: TTL", () => {
  it("removes records expiring at or before now, and nothing else", () => {
    const plan = planForget(
      [
        item("gone", 0, { expiresAt: NOW - 1 }),
        item("exactly-now", 90, { expiresAt: NOW }),
        item("later", 180, { expiresAt: NOW + 1 }),
        item("forever", 270),
      ],
      {},
      NOW,
    );
    expect(reasons(plan)).toEqual({ gone: "ttl", "exactly-now": "ttl" });
    expect(plan.keptIds).toEqual(["later", "forever"]);
    expect(plan.updates).toEqual([]);
  });

  it("expires a record before it could absorb a duplicate", () => {
    const plan = planForget([item("old", 0, { importance: 0.9, expiresAt: NOW }), item("copy", 1)], {}, NOW);
    expect(reasons(plan)).toEqual({ old: "ttl" });
    expect(plan.keptIds).toEqual(["copy"]);
  });
});

describe("planForget: near-duplicates", () => {
  it("merges same-kind records at or above the threshold into the most important, with the union of sources", () => {
    const plan = planForget(
      [
        item("a", 0, { importance: 0.4, source: { threadId: "t1", messageIds: ["m1", "m2"] } }),
        item("b", 10, { importance: 0.8, source: { threadId: "t2", messageIds: ["m3"] } }), // cos 0.985 to a
        item("c", 17, { importance: 0.6, source: { messageIds: ["m2", "m4"] } }), // cos 0.990 to b
        item("far", 40), // cos 0.83 to b: not a duplicate
      ],
      {},
      NOW,
    );
    expect(reasons(plan)).toEqual({ a: "dedupe", c: "dedupe" });
    expect(plan.removals.map((r) => r.mergedInto)).toEqual(["b", "b"]);
    expect(plan.keptIds).toEqual(["b", "far"]);
    expect(plan.updates).toHaveLength(1);
    const kept = plan.updates[0]!;
    expect(kept).toMatchObject({ id: "b", importance: 0.8, content: "content of b", updatedAt: NOW });
    // Sources in the order the group was ranked: the kept record's, then c's (0.6), then a's (0.4).
    expect(kept.source).toEqual({ threadId: "t2", messageIds: ["m3", "m2", "m4", "m1"] });
  });

  it("keeps the most recently accessed of equally important duplicates, and their latest access", () => {
    const plan = planForget(
      [
        // Not "older" / "newer": the content holds the id, and "older" must be in both texts to merge (restatement.ts).
        item("stale", 0, { lastAccessedAt: NOW - 5 * DAY }),
        item("fresh", 5, { lastAccessedAt: NOW - 2 * DAY }),
      ],
      {},
      NOW,
    );
    expect(reasons(plan)).toEqual({ stale: "dedupe" });
    expect(plan.updates[0]).toMatchObject({ id: "fresh", lastAccessedAt: NOW - 2 * DAY });
  });

  it("never merges records of different kinds, however similar", () => {
    const plan = planForget(
      MEMORY_KINDS.map((kind) => item(kind, 0, { kind })),
      {},
      NOW,
    );
    expect(plan.removals).toEqual([]);
    expect(plan.keptIds).toEqual([...MEMORY_KINDS]);
  });

  it("never merges two agents' records, nor two speakers': each agent reads its own", () => {
    // The same instruction learned by two agents of the user: merged into one agent's, the other
    // agent's system prompt lost it.
    const plan = planForget(
      [
        item("planner", 0, { kind: "procedure", content: "Answer in French", scope: { userId: "u", agentId: "planner" }, importance: 0.9 }),
        item("writer", 0, { kind: "procedure", content: "Answer in French", scope: { userId: "u", agentId: "writer" } }),
        item("writer-again", 0, { kind: "procedure", content: "Answer in French.", scope: { userId: "u", agentId: "writer" } }),
        item("user-said", 0, { content: "The meeting moved to 3pm", role: "user" }),
        item("assistant-said", 0, { content: "The meeting moved to 3pm", role: "assistant" }),
      ],
      {},
      NOW,
    );
    expect(reasons(plan)).toEqual({ "writer-again": "dedupe" });
    expect(plan.removals[0]!.mergedInto).toBe("writer");
  });

  it("merges only records whose metadata agree, Engram's per-copy tags aside", () => {
    // A filter on `project` found each copy; merged, one project's search lost its memory.
    const plan = planForget(
      [
        item("project-a", 0, { content: "The deadline is Friday", metadata: { project: "a" }, importance: 0.9 }),
        item("project-b", 0, { content: "The deadline is Friday", metadata: { project: "b" } }),
        item("no-project", 0, { content: "The deadline is Friday", metadata: {} }),
        item("project-a-again", 0, { content: "The deadline is friday!", metadata: { project: "a", entities: "friday", validFrom: NOW - 2 * DAY } }),
      ],
      {},
      NOW,
    );
    expect(reasons(plan)).toEqual({ "project-a-again": "dedupe" });
    expect(plan.updates.map((record) => [record.id, record.metadata])).toEqual([["project-a", { project: "a" }]]);
  });

  it("honours the threshold: the same pair merges at 0.95 and stays apart at 0.99", () => {
    const pair = [item("x", 0), item("y", 12)]; // cos 0.978
    expect(reasons(planForget(pair, { dedupeThreshold: 0.95 }, NOW))).toEqual({ y: "dedupe" });
    expect(planForget(pair, { dedupeThreshold: 0.99 }, NOW).removals).toEqual([]);
  });

  it("leaves core blocks alone", () => {
    const plan = planForget(
      [
        item("persona", 0, { kind: "procedure", metadata: { block: "persona", limit: 500 } }),
        item("human", 0, { kind: "procedure", metadata: { block: "human", limit: 500 } }),
      ],
      {},
      NOW,
    );
    expect(plan.removals).toEqual([]);
  });
});

describe("planForget: the cap", () => {
  it("evicts the lowest retention first, down to maxRecords", () => {
    const items = [
      // Important but untouched for 90 days (3 half-lives): 0.9 / 8 = 0.1125.
      item("stale-vital", 0, { importance: 0.9, lastAccessedAt: NOW - 90 * DAY }),
      // Modest and fresh: 0.3.
      item("fresh-modest", 90, { importance: 0.3, lastAccessedAt: NOW }),
      // 0.5 after one half-life: 0.25.
      item("month-old", 180, { importance: 0.5, lastAccessedAt: NOW - 30 * DAY }),
      // 0.2 after one day: 0.195.
      item("trivia", 270, { importance: 0.2, lastAccessedAt: NOW - DAY }),
    ];
    const plan = planForget(items, { maxRecords: 2 }, NOW);
    expect(reasons(plan)).toEqual({ "stale-vital": "cap", trivia: "cap" });
    expect(plan.removals.map((r) => r.retention)).toEqual([0.1125, 0.2 * 0.5 ** (1 / 30)]);
    expect(plan.keptIds).toEqual(["fresh-modest", "month-old"]);
    // A longer half-life makes age matter less: the stale but vital memory now stays (0.76), the
    // fresh but modest one goes (0.3).
    expect(reasons(planForget(items, { maxRecords: 2, halfLifeDays: 365 }, NOW))).toEqual({ trivia: "cap", "fresh-modest": "cap" });
  });

  it("removes nothing when at or under the cap, and counts what dedupe and TTL already removed", () => {
    const items = [item("a", 0), item("a-copy", 1), item("expired", 90, { expiresAt: NOW }), item("b", 180)];
    const plan = planForget(items, { maxRecords: 2 }, NOW);
    expect(reasons(plan)).toEqual({ expired: "ttl", "a-copy": "dedupe" });
    expect(plan.keptIds).toEqual(["a", "b"]);
  });

  it("never evicts core blocks, though they count towards the cap", () => {
    const plan = planForget(
      [
        item("persona", 0, { kind: "procedure", importance: 0, metadata: { block: "persona" } }),
        item("e1", 90, { importance: 0.9 }),
        item("e2", 180, { importance: 0.8 }),
      ],
      { maxRecords: 2 },
      NOW,
    );
    expect(reasons(plan)).toEqual({ e2: "cap" });
  });

  it("never evicts a learned instruction, however old, though it counts towards the cap", () => {
    // Before, its retention (0.5 halved for 90 days: 0.06) was the lowest, and it went first.
    const plan = planForget(
      [
        item("answer-in-french", 0, { kind: "procedure", importance: 0.5, lastAccessedAt: NOW - 90 * DAY, createdAt: NOW - 90 * DAY }),
        item("e1", 90, { importance: 0.3 }),
        item("e2", 180, { importance: 0.2 }),
      ],
      { maxRecords: 2 },
      NOW,
    );
    expect(reasons(plan)).toEqual({ e2: "cap" });
  });

  it("gives the kept record the group's longest life: none when a duplicate has no expiry", () => {
    // Before, the kept record (the more important) kept its own expiry: the memory was gone the
    // next day, though the same words were also stored for good.
    const forever = planForget(
      [item("today-only", 0, { importance: 0.9, expiresAt: NOW + DAY }), item("for-good", 3, { importance: 0.2 })],
      {},
      NOW,
    );
    expect(reasons(forever)).toEqual({ "for-good": "dedupe" });
    expect(forever.updates).toHaveLength(1);
    expect(forever.updates[0]!.id).toBe("today-only");
    expect(forever.updates[0]!.expiresAt).toBeUndefined();
    const longer = planForget(
      [item("a-day", 0, { importance: 0.9, expiresAt: NOW + DAY }), item("a-week", 3, { importance: 0.2, expiresAt: NOW + 7 * DAY })],
      {},
      NOW,
    );
    expect(longer.updates[0]).toMatchObject({ id: "a-day", expiresAt: NOW + 7 * DAY });
  });

  it("never merges the same words about other days", () => {
    // "I went to the gym yesterday", said on two days: two events.
    const plan = planForget(
      [
        item("said-monday", 0, { content: "I went to the gym yesterday", metadata: { dates: "d:2026-12-06|m:2026-12|y:2026" } }),
        item("said-thursday", 0, { content: "I went to the gym yesterday", metadata: { dates: "d:2026-12-09|m:2026-12|y:2026" } }),
        item("said-thursday-again", 0, { content: "I went to the gym yesterday", metadata: { dates: "d:2026-12-09|m:2026-12|y:2026" } }),
      ],
      {},
      NOW,
    );
    expect(reasons(plan)).toEqual({ "said-thursday-again": "dedupe" });
  });

  it("does not write back a merged record that the cap then evicts", () => {
    const plan = planForget(
      [item("weak", 0, { importance: 0.1 }), item("weak-copy", 3, { importance: 0.1 }), item("strong", 90, { importance: 0.9 })],
      { maxRecords: 1 },
      NOW,
    );
    expect(reasons(plan)).toEqual({ "weak-copy": "dedupe", weak: "cap" });
    expect(plan.updates).toEqual([]);
    expect(plan.keptIds).toEqual(["strong"]);
  });
});

describe("retention", () => {
  it("is importance halved every halfLifeDays since last access, and not more than importance", () => {
    const record = item("r", 0, { importance: 0.8, lastAccessedAt: NOW - 60 * DAY }).record;
    expect(retention(record, NOW, 30)).toBeCloseTo(0.2, 12);
    expect(retention(record, NOW, 60)).toBeCloseTo(0.4, 12);
    expect(retention({ ...record, lastAccessedAt: NOW + DAY }, NOW, 30)).toBe(0.8);
  });
});

describe("validation", () => {
  it("fills in the documented defaults", () => {
    expect(resolveForgetRules()).toEqual({ dedupeThreshold: 0.95, halfLifeDays: 30, maxRecords: 10_000 });
    expect(DEFAULT_FORGET_RULES).toEqual(resolveForgetRules({}));
  });

  it.each<[string, ForgetRules]>([
    ["threshold 0", { dedupeThreshold: 0 }],
    ["threshold above 1", { dedupeThreshold: 1.01 }],
    ["threshold NaN", { dedupeThreshold: Number.NaN }],
    ["threshold as a string", { dedupeThreshold: "0.9" as unknown as number }],
    ["half-life 0", { halfLifeDays: 0 }],
    ["negative half-life", { halfLifeDays: -3 }],
    ["infinite half-life", { halfLifeDays: Number.POSITIVE_INFINITY }],
    ["maxRecords 0", { maxRecords: 0 }],
    ["fractional maxRecords", { maxRecords: 2.5 }],
    ["negative maxRecords", { maxRecords: -1 }],
  ])("refuses %s with INVALID_OPTIONS", (_, rules) => {
    expectCode(() => planForget([item("a", 0, { expiresAt: 0 })], rules, NOW), "INVALID_OPTIONS");
  });

  it("accepts the edges of the ranges", () => {
    expect(() => resolveForgetRules({ dedupeThreshold: 1, halfLifeDays: 0.001, maxRecords: 1 })).not.toThrow();
  });

  it("refuses records of two users, and an id given twice", () => {
    expectCode(() => planForget([item("a", 0), item("b", 0, { scope: { userId: "v" } })], {}, NOW), "INVALID_SCOPE");
    expectCode(() => planForget([item("a", 0), item("a", 90)], {}, NOW), "INVALID_ID");
  });
});

describe("planForget: properties", () => {
  const kinds = fc.constantFrom<MemoryKind>(...MEMORY_KINDS);
  // Few angles, so that duplicates (within 18 degrees) are common.
  const arbitraryItem = fc.record({
    degrees: fc.oneof(fc.constantFrom(0, 5, 12, 20, 40, 90, 180), fc.integer({ min: 0, max: 359 })),
    kind: kinds,
    importance: fc.double({ min: 0, max: 1, noNaN: true }),
    ageDays: fc.integer({ min: 0, max: 400 }),
    expiresInDays: fc.option(fc.integer({ min: -10, max: 10 }), { nil: undefined }),
    messageIds: fc.array(fc.constantFrom("m1", "m2", "m3", "m4", "m5"), { maxLength: 3 }),
    block: fc.option(fc.constantFrom("persona", "human"), { nil: undefined, freq: 8 }),
  });
  const arbitraryRules = fc.record({
    dedupeThreshold: fc.double({ min: 0.5, max: 1, noNaN: true }),
    halfLifeDays: fc.double({ min: 0.5, max: 365, noNaN: true }),
    maxRecords: fc.integer({ min: 1, max: 25 }),
  });

  function build(specs: Array<{ degrees: number; kind: MemoryKind; importance: number; ageDays: number; expiresInDays?: number; messageIds: string[]; block?: string }>): ForgetItem[] {
    return specs.map((spec, i) =>
      item(`r${i}`, spec.degrees, {
        kind: spec.kind,
        importance: spec.importance,
        lastAccessedAt: NOW - spec.ageDays * DAY,
        createdAt: NOW - spec.ageDays * DAY - i,
        ...(spec.expiresInDays === undefined ? {} : { expiresAt: NOW + spec.expiresInDays * DAY }),
        source: spec.messageIds.length > 0 ? { messageIds: spec.messageIds } : {},
        metadata: spec.block !== undefined && spec.kind === "procedure" ? { block: spec.block } : {},
      }),
    );
  }

  const cos = (a: number, b: number): number => Math.cos(((a - b) * Math.PI) / 180);
  const degreesOf = (i: ForgetItem): number => (Math.atan2(i.embedding[1]!, i.embedding[0]!) * 180) / Math.PI;

  it("kept and removed partition the input; removals are bounded by expired + duplicates + over-cap", () => {
    fc.assert(
      fc.property(fc.array(arbitraryItem, { maxLength: 40 }), arbitraryRules, (specs, rules) => {
        const items = build(specs);
        const plan = planForget(items, rules, NOW);
        const removedIds = plan.removals.map((r) => r.record.id);
        const all = items.map((i) => i.record.id);
        expect(new Set(removedIds).size).toBe(removedIds.length);
        expect(removedIds.filter((id) => plan.keptIds.includes(id))).toEqual([]);
        expect([...plan.keptIds, ...removedIds].sort()).toEqual([...all].sort());

        const expired = items.filter((i) => i.record.expiresAt !== undefined && i.record.expiresAt <= NOW);
        const live = items.filter((i) => !expired.includes(i));
        const pinned = (r: MemoryRecord): boolean => r.kind === "procedure" && typeof r.metadata.block === "string";
        // A record can only go as a duplicate if some other live, unpinned record of its kind is near it.
        const duplicates = live.filter(
          (a) =>
            !pinned(a.record) &&
            live.some(
              (b) =>
                b !== a &&
                !pinned(b.record) &&
                b.record.kind === a.record.kind &&
                cos(degreesOf(a), degreesOf(b)) >= rules.dedupeThreshold - 2 * COSINE_TOLERANCE,
            ),
        );
        const overCap = Math.max(0, live.length - rules.maxRecords);
        expect(plan.removals.length).toBeLessThanOrEqual(expired.length + duplicates.length + overCap);
        expect(plan.removals.filter((r) => r.reason === "ttl").map((r) => r.record.id)).toEqual(expired.map((i) => i.record.id));
        // The cap leaves exactly maxRecords, unless procedures (core blocks and learned instructions) alone are more.
        const dedupeRemoved = new Set(plan.removals.filter((r) => r.reason === "dedupe").map((r) => r.record.id));
        const procedures = live.filter((i) => i.record.kind === "procedure" && !dedupeRemoved.has(i.record.id)).length;
        expect(plan.keptIds.length).toBe(Math.max(Math.min(live.length - dedupeRemoved.size, rules.maxRecords), procedures));
        expect(plan.removals.some((r) => pinned(r.record) && r.reason !== "ttl")).toBe(false);
        expect(plan.removals.some((r) => r.record.kind === "procedure" && r.reason === "cap")).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("a merge never crosses kinds, keeps a near record, and keeps every source", () => {
    fc.assert(
      fc.property(fc.array(arbitraryItem, { maxLength: 40 }), arbitraryRules, (specs, rules) => {
        const items = build(specs);
        const byId = new Map(items.map((i) => [i.record.id, i]));
        const plan = planForget(items, rules, NOW);
        const written = new Map(plan.updates.map((r) => [r.id, r]));
        for (const removal of plan.removals.filter((r) => r.reason === "dedupe")) {
          const kept = byId.get(removal.mergedInto!)!;
          expect(kept.record.kind).toBe(removal.record.kind);
          expect(cos(degreesOf(kept), degreesOf(byId.get(removal.record.id)!))).toBeGreaterThanOrEqual(rules.dedupeThreshold - 2 * COSINE_TOLERANCE);
          expect(kept.record.importance).toBeGreaterThanOrEqual(removal.record.importance);
          const update = written.get(kept.record.id);
          if (update) {
            for (const id of removal.record.source.messageIds ?? []) expect(update.source.messageIds).toContain(id);
          } else {
            // Not written back only because the cap evicted it.
            expect(plan.removals.find((r) => r.record.id === kept.record.id)?.reason).toBe("cap");
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
