import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";

// Forgetting merged two facts that differ in one word of a closed set: the default local model
// puts each pair above the default 0.95 (cosines in the comments), and the text check let a
// swapped word pass as a paraphrase ("moved" / "relocated"). The merge deleted one of the two facts.
const memories = testMemories();

const DIFFERENT: Array<[string, string]> = [
  ["I have two kids", "I have three kids"], // 0.958
  ["My daughter is five years old", "My daughter is six years old"], // 0.992
  ["The meeting moved to Monday", "The meeting moved to Tuesday"], // 0.985
  ["I work from home on Fridays", "I work from home on Thursdays"], // 0.975
  ["My son turns ten in August", "My son turns ten in April"], // 0.985
  ["I moved to Oslo before the wedding", "I moved to Oslo after the wedding"], // 0.989
  ["I earn more than my brother", "I earn less than my brother"], // 0.985
  ["I always drink tea in the morning", "I rarely drink tea in the morning"], // 0.971
  ["I have a couple of cats", "I have a few cats"], // 0.966
];

describe("Memory.forget with the default local model: one word of a closed set swapped", () => {
  it("keeps both texts of each pair, and still merges a restatement", async () => {
    const m = memories.open("closed-words", { writes: "sync" });
    const user = { userId: "kai" };
    for (const [a, b] of DIFFERENT) {
      await m.add(a, { ...user, importance: 0.9 });
      await m.add(b, { ...user, importance: 0.4 });
    }
    // Punctuation only: the same thing said twice (cosine 0.963).
    await m.add("I sleep eight hours a night", { ...user, importance: 0.7 });
    const [copy] = (await m.add("I sleep eight hours a night.", user)).results;

    const report = await m.forget(user);
    expect(report.removedIds).toEqual([copy!.id]);
    const left = (await m.getAll({ ...user, limit: 100 })).map((record) => record.content);
    for (const [a, b] of DIFFERENT) expect(left).toEqual(expect.arrayContaining([a, b]));
  });
});
