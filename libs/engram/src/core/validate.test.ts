import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { EngramError } from "./errors.js";
import { validateScope, validateScopeOptions } from "./scope.js";
import { MAX_TIME, validateImportance, validateLimit, validateMetadata, validateOptionObject, validateRecordId, validateTime } from "./validate.js";
import { checkPatch, planAdd, storeFilter, validateSource } from "../memory/records.js";

/**
 * Properties of the validators every door calls: whatever a caller passes, a validator returns or
 * throws an EngramError with a code (never a TypeError or the caller's own error), and what it
 * accepts is what it keeps (metadata loses no key it was given, a scope's ids are kept exactly).
 */

/** Values a caller can pass, JavaScript's odd ones included: Maps, Sets, Dates, boxed values, BigInts, null prototypes. */
const anyValue = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
  key: fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "$and", "userId", "_engram_text", "kind", "toString")),
});

/** Objects whose reading throws: a getter, Proxy traps, a revoked Proxy. */
const hostile = fc.constantFrom<() => unknown>(
  () => Object.defineProperty({}, "topic", { enumerable: true, get: () => { throw new Error("getter"); } }),
  () => new Proxy({}, { ownKeys: () => { throw new Error("ownKeys"); } }),
  () => new Proxy({ userId: "u" }, { get: () => { throw new Error("get"); } }),
  () => new Proxy({}, { getOwnPropertyDescriptor: () => { throw new Error("descriptor"); } }),
  () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
);

/** A maker of the value: fast-check itself cannot hold a Proxy whose traps throw, so each check makes its own. */
const input = fc.oneof({ weight: 4, arbitrary: anyValue.map((value) => () => value) }, { weight: 1, arbitrary: hostile });

/** Returns, or throws an EngramError with a code and a message; anything else fails the property. */
function typed(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof EngramError) || typeof error.code !== "string" || error.message.length === 0) {
      throw new Error(`not an EngramError: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  }
}

const rules = { maxContentChars: 8_000, extractEntities: false, infer: () => false };

describe("validators, for any value", () => {
  it("return or throw an EngramError with a code, in every argument and option", () => {
    fc.assert(
      fc.property(input, (make) => {
        const value = make();
        typed(() => validateMetadata(value));
        typed(() => validateScope(value));
        typed(() => validateScope({ userId: value }));
        typed(() => validateScopeOptions(value, "get()"));
        typed(() => validateOptionObject(value, "filters", ["kind"], "{}"));
        typed(() => validateTime(value, "expiresAt"));
        typed(() => validateImportance(value));
        typed(() => validateLimit(value, "limit", 10));
        typed(() => validateRecordId(value));
        typed(() => validateSource(value));
        typed(() => checkPatch(value, 8_000));
        typed(() => checkPatch({ metadata: value }, 8_000));
        typed(() => storeFilter({ userId: "u" }, value as never));
        typed(() => storeFilter({ userId: "u" }, { metadata: value } as never));
        typed(() => planAdd("I like tea", { userId: "u", metadata: value } as never, { userId: "u" }, rules));
        typed(() => planAdd("I like tea", value as never, { userId: "u" }, rules));
        typed(() => planAdd(value as string, { userId: "u" }, { userId: "u" }, rules));
      }),
      { numRuns: 2_000, seed: 20261207 },
    );
  });

  it("metadata that is accepted keeps every key it was given (none vanishes on the way)", () => {
    const key = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("__proto__", "constructor", "hasOwnProperty", "valueOf", "a.b", "#x"));
    const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.double(), fc.boolean(), fc.integer());
    fc.assert(
      fc.property(fc.dictionary(key, scalar, { maxKeys: 8 }), (given) => {
        let kept: Record<string, unknown>;
        try {
          kept = validateMetadata(given);
        } catch (error) {
          expect(error).toBeInstanceOf(EngramError);
          return;
        }
        expect(Object.keys(kept).sort()).toEqual(Object.keys(given).sort());
        for (const [name, value] of Object.entries(given)) {
          if (typeof value !== "string") expect(Object.is(kept[name], value) || (value === 0 && kept[name] === 0)).toBe(true);
        }
      }),
      { numRuns: 2_000, seed: 20261207 },
    );
  });

  it("a scope keeps its ids exactly: two different accepted user ids stay two users", () => {
    // NFC and NFD of one name, case, surrounding spaces and zero-width characters are all distinct ids.
    const variants = ["José", "Jose\u0301", "josé", " José", "José ", "Jo\u200Bsé", "José\u200D"];
    const kept = variants.map((userId) => validateScope({ userId }).userId);
    expect(kept).toEqual(variants);
    expect(new Set(kept).size).toBe(variants.length);
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 300 }), (userId) => {
        let scope;
        try {
          scope = validateScope({ userId });
        } catch (error) {
          expect(error).toBeInstanceOf(EngramError);
          return;
        }
        expect(scope.userId).toBe(userId);
      }),
      { numRuns: 2_000, seed: 20261207 },
    );
  });

  it("a time is what a Date can hold: the bounds are accepted, one past them is refused", () => {
    expect(validateTime(MAX_TIME, "t")).toBe(MAX_TIME);
    expect(validateTime(-MAX_TIME, "t")).toBe(-MAX_TIME);
    expect(validateTime(new Date(MAX_TIME), "t")).toBe(MAX_TIME);
    for (const bad of [MAX_TIME + 1, -MAX_TIME - 1, 1e20, Number.MAX_VALUE, new Date(Number.NaN)]) {
      expect(() => validateTime(bad, "expiresAt")).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }) as never);
    }
  });
});
