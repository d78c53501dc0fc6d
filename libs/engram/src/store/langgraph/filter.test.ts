import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { InMemoryStore } from "@langchain/langgraph";
import { isEngramError } from "../../core/errors.js";
import { matchesFilter, parseFilter } from "./filter.js";
import { itemFilterClauses as filterClauses } from "../chroma_where.js";
import { shadowMetadata, UNSET } from "./shadows.js";

// Field values of every kind a JSON value can hold, with the awkward ones for Number(): numeric
// strings, blanks, booleans, null, one-element arrays.
const fieldValue = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0.5, -2.5, 1e20, 3),
  fc.constantFrom("a", "b", "", " 3 ", "4", "1e3", "x1", "true"),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom([1], [], ["2"], [1, 2]),
  fc.constant({ nested: 1 }),
);
const scalar = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(0.5, -2.5, 3), fc.constantFrom("a", "b", "", "4", "3"), fc.boolean(), fc.constant(null));
const operand = fc.oneof(
  fc.record({ $eq: scalar }),
  fc.record({ $ne: scalar }),
  fc.record({ $gt: scalar }),
  fc.record({ $gte: scalar }),
  fc.record({ $lt: scalar }),
  fc.record({ $lte: scalar }),
  fc.record({ $in: fc.array(scalar, { maxLength: 3 }) }),
  fc.record({ $nin: fc.array(scalar, { maxLength: 3 }) }),
  fc.record({ $gte: scalar, $lt: scalar }),
  scalar,
);
const fields = ["p", "q", "r"];
const value = fc.dictionary(fc.constantFrom(...fields), fieldValue, { maxKeys: 3 });
const filter = fc.dictionary(fc.constantFrom(...fields, "missing"), operand, { minKeys: 1, maxKeys: 2 });

describe("matchesFilter", () => {
  it("agrees with LangGraph's InMemoryStore on every operator, type and missing field", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 8 }), filter, async (values, where) => {
        const oracle = new InMemoryStore();
        for (const [i, v] of values.entries()) await oracle.put(["t"], `k${i}`, v);
        const expected = (await oracle.search(["t"], { filter: where, limit: 100 })).map((item) => item.key).sort();
        const conditions = parseFilter(where);
        const actual = values.flatMap((v, i) => (matchesFilter(v, conditions) ? [`k${i}`] : [])).sort();
        expect(actual).toEqual(expected);
      }),
      { numRuns: 400, seed: 20240611 },
    );
  });

  it("compares objects and arrays by content (InMemoryStore compares references)", () => {
    expect(matchesFilter({ tags: ["a", "b"] }, parseFilter({ tags: ["a", "b"] }))).toBe(true);
    expect(matchesFilter({ meta: { a: 1 } }, parseFilter({ meta: { $eq: { a: 1 } } }))).toBe(true);
    expect(matchesFilter({ meta: { a: 1 } }, parseFilter({ meta: { $in: [{ a: 2 }, { a: 1 }] } }))).toBe(true);
    expect(matchesFilter({ meta: { a: 1 } }, parseFilter({ meta: { a: 1, b: 2 } }))).toBe(false);
  });

  it("reads only a value's own fields", () => {
    expect(matchesFilter({}, parseFilter({ constructor: { $ne: 1 } }))).toBe(true);
    expect(matchesFilter({}, parseFilter({ toString: { $in: [undefined] } }))).toBe(true);
  });

  it("refuses unknown operators, operators mixed with fields and $in without a list", () => {
    for (const bad of [{ a: { $gtt: 1 } }, { a: { $eq: 1, b: 2 } }, { a: { $in: "x" } }, { a: { $nin: 3 } }, "status = 1", [1]]) {
      let error: unknown;
      try {
        parseFilter(bad);
      } catch (e) {
        error = e;
      }
      expect(isEngramError(error, "INVALID_FILTER")).toBe(true);
    }
  });
});

describe("filter shadows and Chroma clauses", () => {
  it("shadows scalars as they are and Number() of anything that has one, clamped to ±2^53", () => {
    expect(shadowMetadata({ s: "4", b: true, n: 2.5, big: 1e300, z: null, arr: [7], obj: { a: 1 }, long: "x".repeat(2000) })).toEqual({
      "v:s": "4",
      "n:s": 4,
      "v:b": true,
      "n:b": 1,
      "v:n": 2.5,
      "n:n": 2.5,
      "n:big": Number.MAX_SAFE_INTEGER,
      "n:z": 0,
      "n:arr": 7,
    });
  });

  it("marks the shadows of fields an update removed, so they read as missing", () => {
    expect(shadowMetadata({ a: 1 }, ["v:a", "n:a", "v:gone", "n:gone", "_key"])).toEqual({ "v:a": 1, "n:a": 1, "v:gone": UNSET, "n:gone": UNSET });
  });

  it("pushes only clauses that cannot drop a match; strict ranges become non-strict", () => {
    expect(filterClauses(parseFilter({ a: "x", b: { $gt: 3 }, c: { $lt: "7" } }))).toEqual([
      { "v:a": { $eq: "x" } },
      { "n:b": { $gte: 3 } },
      { "n:c": { $lte: 7 } },
    ]);
    // Chroma truncates a float compared with an integer field: $ne / $nin with floats stay in process.
    expect(filterClauses(parseFilter({ a: { $ne: 1.5 }, b: { $nin: [1, 2.5] } }))).toEqual([]);
    expect(filterClauses(parseFilter({ a: { $ne: 2 }, b: { $nin: ["x", 1, true] } }))).toEqual([
      { "v:a": { $ne: 2 } },
      { $and: [{ "v:b": { $ne: "x" } }, { "v:b": { $ne: 1 } }, { "v:b": { $ne: true } }] },
    ]);
    // One type per $in list: a mixed list becomes an $or of lists.
    expect(filterClauses(parseFilter({ a: { $in: [1, 2, 2.5, "x"] } }))).toEqual([
      { $or: [{ "v:a": { $in: [1, 2] } }, { "v:a": { $eq: 2.5 } }, { "v:a": { $eq: "x" } }] },
    ]);
    // Objects, null, NaN operands and empty lists are checked in process only.
    expect(filterClauses(parseFilter({ a: { x: 1 }, b: null, c: { $gt: "abc" }, d: { $in: [] }, e: { $eq: UNSET } }))).toEqual([]);
  });
});
