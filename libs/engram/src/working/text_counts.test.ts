import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import { TextCounts } from "./text_counts.js";
import { countTokens, textCounts } from "./tokens.js";

describe("the token counts kept of recent texts", () => {
  it("keep at most 2,000,000 characters of text however many long messages a process counts", () => {
    // A server's users sending long messages (pasted documents, tool outputs): each distinct text
    // was kept, up to 10,000 of up to 20,000 characters, some 200 million characters for good.
    const words = "the quarterly report lists every shipment of the northern depot ".repeat(160);
    for (let i = 0; i < 260; i += 1) countTokens([new HumanMessage(`message ${i}: ${words}`)]);
    expect(textCounts.chars).toBeGreaterThan(0);
    expect(textCounts.chars).toBeLessThanOrEqual(2_000_000);
  });

  it("count the same as without them, and serve a text seen again", () => {
    const text = "tiktoken is great! ".repeat(50);
    const first = countTokens(text);
    expect(textCounts.get(text)).toBe(first);
    expect(countTokens(text)).toBe(first);
  });

  it("are bounded in entries, in characters and in the length of one text", () => {
    const counts = new TextCounts(3, 10, 6);
    counts.set("abcdefg", 1); // longer than one text may be: not kept
    expect(counts.size).toBe(0);
    counts.set("abcd", 1);
    counts.set("efgh", 2);
    expect(counts.chars).toBe(8);
    counts.set("ijkl", 3); // past 10 characters: the cache starts again
    expect([counts.size, counts.chars, counts.get("abcd"), counts.get("ijkl")]).toEqual([1, 4, undefined, 3]);
    counts.set("a", 4);
    counts.set("b", 5);
    counts.set("c", 6); // a fourth entry: starts again
    expect([counts.size, counts.get("c")]).toEqual([1, 6]);
  });
});
