import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { describeValue, MAX_DESCRIPTION_CHARS } from "./describe.js";

describe("describeValue", () => {
  it("prints strings and plain data as JSON, as the messages did before", () => {
    expect(describeValue("bogus")).toBe('"bogus"');
    expect(describeValue({ $gt: 0 })).toBe('{"$gt":0}');
    expect(describeValue([1, "a"])).toBe('[1,"a"]');
    expect(describeValue(null)).toBe("null");
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue(true)).toBe("true");
    expect(describeValue(1.5)).toBe("1.5");
  });

  it("prints what JSON cannot: BigInt, NaN, Infinity, symbols, functions, dates", () => {
    expect(describeValue(10n)).toBe("10n");
    expect(describeValue(NaN)).toBe("NaN");
    expect(describeValue(-Infinity)).toBe("-Infinity");
    expect(describeValue(Symbol.for("x"))).toBe("Symbol(x)");
    expect(describeValue(() => 1)).toBe("a function");
    expect(describeValue(function named() {})).toBe("a function (named)");
    expect(describeValue(new Date(Number.NaN))).toBe("an invalid Date");
    expect(describeValue(new Date(0))).toBe("Date 1970-01-01T00:00:00.000Z");
    expect(describeValue({ n: 10n, s: Symbol("y"), f: () => 1, x: NaN })).toBe('{"n":"10n","s":"Symbol(y)","f":"[function]","x":"NaN"}');
  });

  it("marks a cycle but prints a shared, acyclic reference in full", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('{"a":1,"self":"[Circular]"}');
    const list: unknown[] = [1];
    list.push(list);
    expect(describeValue(list)).toBe('[1,"[Circular]"]');
    const shared = { k: 1 };
    expect(describeValue({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
    const deep: Record<string, unknown> = { inner: { x: 1 } };
    (deep.inner as Record<string, unknown>).back = deep;
    expect(describeValue(deep)).toBe('{"inner":{"x":1,"back":"[Circular]"}}');
  });

  it("cuts huge strings and objects and says how long they were", () => {
    const huge = "x".repeat(10_000_000);
    const text = describeValue(huge);
    expect(text.length).toBeLessThan(MAX_DESCRIPTION_CHARS + 40);
    expect(text).toContain("(10000000 characters)");
    const big = describeValue(Array.from({ length: 1_000 }, (_, i) => i));
    expect(big.length).toBeLessThan(MAX_DESCRIPTION_CHARS + 40);
    expect(big.startsWith("[0,1,2,")).toBe(true);
    expect(big).toMatch(/… \(\d+ characters\)$/);
  });

  it("survives values that throw when read: a throwing getter, toJSON, a revoked Proxy", () => {
    const getter = Object.defineProperty({}, "boom", { enumerable: true, get: () => { throw new Error("no"); } });
    expect(describeValue(getter)).toBe("a value of type object");
    expect(describeValue({ toJSON: () => { throw new Error("no"); } })).toBe("a value of type object");
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(describeValue(proxy)).toBe("a value of type object");
    expect(describeValue(Object.create(null))).toBe("{}");
  });

  it("never throws and stays short, whatever the value", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }), (value) => {
        const text = describeValue(value);
        expect(typeof text).toBe("string");
        expect(text.length).toBeLessThanOrEqual(MAX_DESCRIPTION_CHARS + 40);
      }),
      { numRuns: 500 },
    );
  });
});
