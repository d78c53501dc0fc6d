import { describe, expect, it } from "@jest/globals";
import { EmbeddingCache } from "./cache.js";

/** The cache's bound on characters kept (cache.ts MAX_CACHED_CHARS), written out: 16 MB of UTF-16. */
const MAX_CACHED_CHARS = 8_388_608;

describe("EmbeddingCache", () => {
  it("embeds only texts it has not seen, once each, and keeps input order", async () => {
    const calls: string[][] = [];
    const embed = async (texts: string[]) => {
      calls.push(texts);
      return texts.map((text) => [text.length, 1]);
    };
    const cache = new EmbeddingCache(10);
    expect(await cache.embed(["ab", "abc", "ab"], embed)).toEqual([[2, 1], [3, 1], [2, 1]]);
    expect(await cache.embed(["abc", "abcd"], embed)).toEqual([[3, 1], [4, 1]]);
    expect(await cache.embed(["abcd"], embed)).toEqual([[4, 1]]);
    expect(calls).toEqual([["ab", "abc"], ["abcd"]]);
  });

  it("drops the least recently used text past its size, and caches nothing at size 0", async () => {
    const calls: string[] = [];
    const embed = async (texts: string[]) => {
      calls.push(...texts);
      return texts.map(() => [0]);
    };
    const cache = new EmbeddingCache(2);
    await cache.embed(["a", "b"], embed);
    await cache.embed(["a"], embed); // a is now the most recent
    await cache.embed(["c"], embed); // evicts b
    await cache.embed(["a", "b"], embed);
    expect(calls).toEqual(["a", "b", "c", "b"]);
    const off = new EmbeddingCache(0);
    await off.embed(["x"], embed);
    await off.embed(["x"], embed);
    expect(calls.filter((text) => text === "x")).toHaveLength(2);
  });

  it("keeps at most MAX_CACHED_CHARS characters of text, however few the texts (long texts, maxContentChars up to 1,000,000)", async () => {
    const embed = async (texts: string[]) => texts.map(() => [1]);
    const cache = new EmbeddingCache(1_024);
    const long = (i: number): string => `${i} `.padEnd(1_000_000, "x");
    const texts = Array.from({ length: Math.ceil(MAX_CACHED_CHARS / 1_000_000) + 2 }, (_, i) => long(i));
    for (const text of texts) await cache.embed([text], embed);
    // The newest are kept, the oldest dropped to stay within the bound.
    expect(cache.get(texts.at(-1)!)).toEqual([1]);
    expect(cache.get(texts[0]!)).toBeUndefined();
    const kept = texts.filter((text) => cache.get(text) !== undefined);
    expect(kept.reduce((sum, text) => sum + text.length, 0)).toBeLessThanOrEqual(MAX_CACHED_CHARS);
    // A text longer than the bound alone is embedded, not kept.
    const huge = "y".repeat(MAX_CACHED_CHARS + 1);
    await cache.embed([huge], embed);
    expect(cache.get(huge)).toBeUndefined();
    expect(cache.get(texts.at(-1)!)).toEqual([1]);
  });
});
