import { describe, expect, it } from "@jest/globals";
import { isEngramError, type EngramErrorCode } from "../../core/errors.js";
import { EngramStore } from "./engram_store.js";
import { textsAtPath } from "../../store/langgraph/field_text.js";
import { selectNamespaces } from "../../store/langgraph/namespaces.js";
import { validateNamespace, validateTtl, validateValue } from "../../store/langgraph/validate.js";

function codeOf(run: () => unknown): EngramErrorCode | "no error" | "other error" {
  try {
    run();
    return "no error";
  } catch (error) {
    return isEngramError(error) ? error.code : "other error";
  }
}

async function asyncCodeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "no error",
    (error: unknown) => (isEngramError(error) ? error.code : `other error: ${String(error)}`),
  );
}

/**
 * A store pointed at a port where nothing listens: any call that reached Chroma would fail with
 * STORE_UNAVAILABLE, so getting a validation code proves the check came before any I/O.
 */
function unreachableStore(): EngramStore {
  return new EngramStore({ chroma: { url: "http://127.0.0.1:9" }, index: false });
}

describe("store input checks", () => {
  it("refuses empty namespaces and empty, dotted, colon or non-string labels", () => {
    for (const bad of [[], [""], ["a.b"], ["users", ""], ["a:b"], ["a", 3], "users", null, ["a\0"]]) {
      expect([bad, codeOf(() => validateNamespace(bad))]).toEqual([bad, "INVALID_NAMESPACE"]);
    }
    expect(codeOf(() => validateNamespace(["langgraph", "x"], { forWrite: true }))).toBe("INVALID_NAMESPACE");
    expect(validateNamespace([], { allowEmpty: true })).toEqual([]);
    expect(validateNamespace(["users", "alice-1", "*"])).toEqual(["users", "alice-1", "*"]);
  });

  it("takes a TTL only as a positive number of minutes, or null for none", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "10", true, {}]) {
      expect([bad, codeOf(() => validateTtl(bad))]).toEqual([bad, "INVALID_TTL"]);
    }
    expect(validateTtl(0.5)).toBe(0.5);
    expect(validateTtl(null)).toBeNull();
  });

  it("takes plain JSON objects as values and returns what JSON keeps", () => {
    class Thing {
      a = 1;
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [[], "text", 5, null, new Date(), new Map(), new Thing(), { big: 10n }, cyclic]) {
      expect(codeOf(() => validateValue(bad))).toBe("INVALID_VALUE");
    }
    expect(validateValue({ when: new Date(0), gone: undefined, n: 1 })).toEqual({ when: "1970-01-01T00:00:00.000Z", n: 1 });
    expect(validateValue(Object.assign(Object.create(null) as object, { a: 1 }))).toEqual({ a: 1 });
  });

  it("checks options in the constructor, synchronously and without connecting", () => {
    expect(codeOf(() => new EngramStore({ ttl: { defaultTtl: 0 } }))).toBe("INVALID_TTL");
    expect(codeOf(() => new EngramStore({ ttl: { defaultTtl: -5 } }))).toBe("INVALID_TTL");
    expect(codeOf(() => new EngramStore({ ttl: { sweepIntervalMinutes: Number.NaN } }))).toBe("INVALID_TTL");
    expect(codeOf(() => new EngramStore({ ttl: { refreshOnRead: "yes" as unknown as boolean } }))).toBe("INVALID_TTL");
    expect(codeOf(() => new EngramStore({ index: { dims: 0 } }))).toBe("INVALID_OPTIONS");
    expect(codeOf(() => new EngramStore({ prefix: "bad prefix!" }))).toBe("INVALID_OPTIONS");
    expect(codeOf(() => new EngramStore({ ttl: { defaultTtl: 60, refreshOnRead: false, sweepIntervalMinutes: 5 } }))).toBe("no error");
  });

  it("refuses bad operations before any I/O, and a whole batch when one operation is bad", async () => {
    const store = unreachableStore();
    expect(await asyncCodeOf(store.put([], "k", { a: 1 }))).toBe("INVALID_NAMESPACE");
    expect(await asyncCodeOf(store.put(["a.b"], "k", { a: 1 }))).toBe("INVALID_NAMESPACE");
    expect(await asyncCodeOf(store.put(["users", ""], "k", { a: 1 }))).toBe("INVALID_NAMESPACE");
    expect(await asyncCodeOf(store.put(["u"], "k", { a: 1 }, undefined, { ttl: 0 }))).toBe("INVALID_TTL");
    expect(await asyncCodeOf(store.put(["u"], "k", { a: 1 }, undefined, { ttl: -3 }))).toBe("INVALID_TTL");
    expect(await asyncCodeOf(store.put(["u"], "k", ["not", "an", "object"] as unknown as Record<string, unknown>))).toBe("INVALID_VALUE");
    expect(await asyncCodeOf(store.put(["u"], 42 as unknown as string, { a: 1 }))).toBe("INVALID_ID");
    expect(await asyncCodeOf(store.get(["a.b"], "k"))).toBe("INVALID_NAMESPACE");
    expect(await asyncCodeOf(store.search(["u"], { filter: { a: { $like: 1 } } }))).toBe("INVALID_FILTER");
    expect(await asyncCodeOf(store.search(["u"], { limit: -1 }))).toBe("INVALID_OPTIONS");
    expect(await asyncCodeOf(store.listNamespaces({ prefix: ["a", ""] }))).toBe("INVALID_NAMESPACE");
    expect(await asyncCodeOf(store.listNamespaces({ maxDepth: 0 }))).toBe("INVALID_OPTIONS");
    const mixed = store.batch([
      { namespace: ["u"], key: "good", value: { a: 1 } },
      { namespace: ["u"], key: "bad", value: { a: 1 }, ttl: Number.NaN } as never,
    ]);
    expect(await asyncCodeOf(mixed)).toBe("INVALID_TTL");
    // A good operation does reach Chroma (and fails there): the checks above really ran first.
    expect(await asyncCodeOf(store.put(["u"], "k", { a: 1 }))).toBe("STORE_UNAVAILABLE");
    await store.close();
    expect(await asyncCodeOf(store.get(["u"], "k"))).toBe("CLOSED");
  });
});

describe("index field paths", () => {
  const value = { text: "hello", n: 3, meta: { author: "Ann", tags: ["a", "b"] }, list: [{ text: "one" }, { text: "two" }] };

  it("picks texts as LangGraph's InMemoryStore does", () => {
    expect(textsAtPath(value, "text")).toEqual(["hello"]);
    expect(textsAtPath(value, "n")).toEqual(["3"]);
    expect(textsAtPath(value, "meta.author")).toEqual(["Ann"]);
    expect(textsAtPath(value, "meta.tags[*]")).toEqual(["a", "b"]);
    expect(textsAtPath(value, "list[*].text")).toEqual(["one", "two"]);
    expect(textsAtPath(value, "list[-1].text")).toEqual(["two"]);
    expect(textsAtPath(value, "{text,meta.author}")).toEqual(["hello", "Ann"]);
    expect(textsAtPath(value, "meta.tags")).toEqual([JSON.stringify(["a", "b"], null, 2)]);
    expect(textsAtPath(value, "$")).toEqual([JSON.stringify(value, null, 2)]);
    expect(textsAtPath(value, "absent.path")).toEqual([]);
  });
});

describe("selectNamespaces", () => {
  it("matches wildcards, cuts to maxDepth, merges, sorts and pages", () => {
    const all = [["a", "b", "c"], ["a", "b", "d"], ["x", "b"]];
    expect(selectNamespaces(all, { matchConditions: [{ matchType: "suffix", path: ["*", "b"] }] })).toEqual([["x", "b"]]);
    expect(selectNamespaces(all, { maxDepth: 2 })).toEqual([["a", "b"], ["x", "b"]]);
    expect(selectNamespaces(all, { maxDepth: 2, offset: 1, limit: 5 })).toEqual([["x", "b"]]);
  });
});
