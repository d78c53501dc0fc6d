import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { boostByDates, dateKeys, DATES_KEY, withDates } from "./dates.js";

// 1:56 pm on Monday 8 May 2023, as a LoCoMo session date.
const AT = Date.UTC(2023, 4, 8, 13, 56);

function record(id: string, createdAt: number, metadata: Record<string, string> = {}): MemoryRecord {
  return { id, scope: { userId: "u" }, kind: "episode", content: id, importance: 0.5, createdAt, updatedAt: createdAt, lastAccessedAt: createdAt, source: {}, metadata };
}

describe("dateKeys", () => {
  it("resolves relative dates against the time the text was written", () => {
    expect(dateKeys("I went to a support group yesterday", AT)).toContain("d:2023-05-07");
    expect(dateKeys("Last Friday I went hiking", AT)).toContain("d:2023-05-05");
    expect(dateKeys("last Saturday was fun", AT)).toContain("d:2023-05-06");
    expect(dateKeys("I started two weeks ago", AT)).toContain("d:2023-04-24");
    expect(dateKeys("we moved last month", AT)).toEqual(expect.arrayContaining(["m:2023-04", "y:2023"]));
    expect(dateKeys("I ran a race last year", AT)).toEqual(["y:2022"]);
    const lastWeek = dateKeys("last week I gave a talk", AT).filter((k) => k.startsWith("d:"));
    expect(lastWeek).toEqual(["d:2023-04-30", "d:2023-05-01", "d:2023-05-02", "d:2023-05-03", "d:2023-05-04", "d:2023-05-05", "d:2023-05-06"]);
  });

  it("reads absolute dates, and needs a time only for relative ones", () => {
    expect(dateKeys("What did Maria do on May 3, 2023?")).toEqual(expect.arrayContaining(["d:2023-05-03", "m:2023-05", "y:2023"]));
    expect(dateKeys("the painting she showed on 13 October 2023")).toContain("d:2023-10-13");
    expect(dateKeys("What setback did she face in October 2023?")).toEqual(expect.arrayContaining(["m:2023-10", "y:2023"]));
    expect(dateKeys("camping in June")).toEqual(["mo:06"]);
    expect(dateKeys("books she read in 2022")).toEqual(["y:2022"]);
    expect(dateKeys("I went yesterday")).toEqual([]);
    // "may" the verb is no month.
    expect(dateKeys("I may go to the park", AT)).toEqual([]);
  });
});

describe("withDates", () => {
  it("stores the resolved dates in metadata, keeps a caller's own value, and adds nothing for no date", () => {
    expect(withDates({ a: 1 }, "I painted a sunrise yesterday", AT)).toEqual({ a: 1, [DATES_KEY]: "d:2023-05-07|m:2023-05|y:2023" });
    expect(withDates({ [DATES_KEY]: "mine" }, "yesterday", AT)).toEqual({ [DATES_KEY]: "mine" });
    // A text naming many dates keeps whole keys within metadata's 1,000 characters.
    const many = withDates<Record<string, unknown>>({}, Array.from({ length: 200 }, (_, i) => `${(i % 28) + 1} May ${1900 + i}`).join(", "), AT)[DATES_KEY] as string;
    expect(many.length).toBeLessThanOrEqual(1_000);
    expect(many.split("|").every((k) => /^(d:\d{4}-\d\d-\d\d|m:\d{4}-\d\d|y:\d{4})$/.test(k))).toBe(true);
    const plain = { a: 1 };
    expect(withDates(plain, "I like pottery", AT)).toBe(plain);
  });
});

describe("boostByDates", () => {
  const day = 86_400_000;
  const items = [
    { record: record("other-day", AT), score: 0.6 },
    { record: record("said-yesterday", AT + day, { [DATES_KEY]: "d:2023-05-08|m:2023-05|y:2023" }), score: 0.5 },
    { record: record("written-that-day", AT - 2 * day), score: 0.4 },
    { record: record("june", Date.UTC(2023, 5, 1)), score: 0.3 },
  ];

  it("lifts memories written on, or speaking of, the day the question names", () => {
    // "8 May 2023": said-yesterday speaks of it, other-day was written on it; written-that-day (6 May) was not.
    const ranked = boostByDates("What happened on 8 May, 2023?", items, 0.3, AT + 30 * day);
    expect(ranked.map((r) => r.record.id)).toEqual(["other-day", "said-yesterday", "written-that-day", "june"]);
    expect(ranked[0]!.score).toBeCloseTo((0.6 + 0.3 * 0.5) / 1.3);
    expect(ranked[2]!.score).toBeCloseTo(0.4 / 1.3);
    const june = boostByDates("What did she do in June 2023?", items, 0.5, AT);
    expect(june[0]!.record.id).toBe("june");
  });

  it("changes nothing without a date in the question or with a zero boost", () => {
    expect(boostByDates("What does she paint?", items, 0.3, AT)).toEqual(items);
    expect(boostByDates("on 8 May 2023", items, 0, AT)).toEqual(items);
  });

  it("changes nothing when the date the question names lifts no memory", () => {
    // Before, every score was divided by 1 + boost all the same: a search asking about "last
    // week" lost, at a threshold, the memories it returned for the same question without the date.
    expect(boostByDates("What happened on 3 January 2020?", items, 0.3, AT)).toEqual(items);
    expect(boostByDates("What did I do last week?", items, 0.4, AT + 400 * day)).toEqual(items);
    // A date every candidate shares has no rarity: it lifts none of them.
    expect(boostByDates("What did she do in 2023?", items, 0.4, AT)).toEqual(items);
  });
});
