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
    // Tagging follows the boost unless set: only the boost reads the names.
    expect(resolveEntityOptions()).toEqual({ extract: false, boost: 0 });
    expect(resolveEntityOptions({ boost: 0.1 })).toEqual({ extract: true, boost: 0.1 });
    expect(resolveEntityOptions({ boost: 0.1, extract: false })).toEqual({ extract: false, boost: 0.1 });
    expect(resolveEntityOptions({ extract: true })).toEqual({ extract: true, boost: 0 });
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

  it("weights a named entity by its rarity among the candidates: a name every candidate carries lifts none", () => {
    const ranked = [
      { record: record("a", { entities: "caroline" }), score: 0.5 },
      { record: record("b", { entities: "caroline|sweden" }), score: 0.48 },
      { record: record("c", { entities: "caroline" }), score: 0.4 },
      { record: record("d", { entities: "melanie" }), score: 0.3 },
    ];
    // "caroline" is in 3 of 4 candidates: weight ln(4/3)/ln(4) = 0.21; "sweden" in 1: weight 1.
    const boosted = boostByEntities("Did Caroline move from Sweden?", ranked, 0.1);
    expect(boosted.map((item) => item.record.id)).toEqual(["b", "a", "c", "d"]);
    const w = Math.log(4 / 3) / Math.log(4);
    expect(boosted[0]!.score).toBeCloseTo(0.48 + 0.1 * (1 - 0.5 ** (1 + w)), 9);
    expect(boosted[1]!.score).toBeCloseTo(0.5 + 0.1 * (1 - 0.5 ** w), 9);
    // Named in every candidate: no candidate gains anything.
    const everyone = ranked.map((item) => ({ ...item, record: record(item.record.id, { entities: "caroline" }) }));
    expect(boostByEntities("What did Caroline say?", everyone, 0.1).map((item) => item.score)).toEqual([0.5, 0.48, 0.4, 0.3]);
  });
});
