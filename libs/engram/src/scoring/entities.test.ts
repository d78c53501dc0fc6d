import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { boostByEntities, extractEntities, joinEntities, namedIn, resolveEntityOptions, withEntities } from "./entities.js";

function record(id: string, metadata: MemoryRecord["metadata"] = {}): MemoryRecord {
  return { id, scope: { userId: "u" }, kind: "fact", content: id, importance: 0.5, createdAt: 0, updatedAt: 0, lastAccessedAt: 0, source: {}, metadata };
}

describe("offline entity extraction", () => {
  it("finds people, places, organisations, dates and numbers, normalised", () => {
    const entities = extractEntities("I live in Paris and work for Google with John Smith since March 2021, I have 12 cousins");
    expect(entities).toEqual([
      { type: "place", name: "paris" },
      { type: "organization", name: "google" },
      { type: "person", name: "john smith" },
      { type: "date", name: "march 2021" },
      { type: "number", name: "12" },
    ]);
  });

  it("drops titles, family words, possessives and edge punctuation", () => {
    const names = extractEntities("My sister Emma met Dr. Sarah O'Neil and Alice's cat in New York City. She paid $1,200.").map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(["emma", "sarah o'neil", "alice", "new york city", "$1200"]));
    expect(names).not.toContain("sister emma");
  });

  it("stores names in flat metadata, keeping a caller's own value", () => {
    expect(withEntities({ topic: "move" }, "I moved to Berlin")).toEqual({ topic: "move", entities: "berlin" });
    expect(withEntities({ entities: "mine" }, "I moved to Berlin")).toEqual({ entities: "mine" });
    expect(withEntities({}, "nothing named here, see you next week")).toEqual({});
    expect(joinEntities(["Paris", "paris", "Berlin.", "x"])).toBe("paris|berlin");
  });

  it("matches names in a query as whole words only", () => {
    expect(namedIn("What did I do in Berlin?", ["berlin", "paris"])).toBe(1);
    expect(namedIn("Berliner food", ["berlin"])).toBe(0);
    expect(namedIn("john smith's new job", ["john smith"])).toBe(1);
    expect(namedIn("Did I pay $1,200 for it?", ["$1200"])).toBe(1);
  });

  it("refuses a boost outside 0..1", () => {
    expect(() => resolveEntityOptions({ boost: 2 })).toThrow(/entities.boost/);
    expect(resolveEntityOptions()).toEqual({ extract: true, boost: 0.1 });
  });
});

describe("entity boost", () => {
  it("lifts a memory whose entity the query names above a slightly better lexical match", () => {
    const ranked = [
      { record: record("cafe", { entities: "paris" }), score: 0.5 },
      { record: record("trip", { entities: "berlin|march 2021" }), score: 0.46 },
      { record: record("plain"), score: 0.4 },
    ];
    const boosted = boostByEntities("What did I eat in Berlin?", ranked, 0.1);
    expect(boosted.map((item) => item.record.id)).toEqual(["trip", "cafe", "plain"]);
    expect(boosted[0]!.score).toBeCloseTo(0.51);
    // Nothing named: the order and scores are unchanged; boost 0 is off.
    expect(boostByEntities("What did I eat?", ranked, 0.1)).toEqual(ranked);
    expect(boostByEntities("Berlin", ranked, 0).map((item) => item.record.id)).toEqual(["cafe", "trip", "plain"]);
  });
});
