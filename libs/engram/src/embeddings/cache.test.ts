import { describe, expect, it } from "@jest/globals";
import { EmbeddingCache } from "./cache.js";

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
});
