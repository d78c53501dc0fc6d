import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";

// Forgetting merges near-duplicates by cosine. The default local model puts pairs that say
// different things above the default 0.95: the same words in another order, another number,
// a negation (cosines measured with it in the comments). Merging deletes one of the two facts.
const memories = testMemories();

const DIFFERENT: Array<[string, string]> = [
  ["I prefer tea to coffee", "I prefer coffee to tea"], // 0.986
  ["My flight goes from Paris to Berlin on Friday", "My flight goes from Berlin to Paris on Friday"], // 0.996
  ["The meeting moved from Monday to Tuesday", "The meeting moved from Tuesday to Monday"], // 0.997
  ["I take the 7:40 train to work", "I take the 8:10 train to work"], // 0.972
  ["I am allergic to peanuts", "I am not allergic to peanuts"], // 0.962
];

describe("Memory.forget with the default local model: near-duplicates that say different things", () => {
  it("keeps both texts of each pair that differs in order, numbers or negation, and still merges a restatement", async () => {
    const m = memories.open("restatement", { writes: "sync" });
    const user = { userId: "ines" };
    for (const [a, b] of DIFFERENT) {
      await m.add(a, { ...user, importance: 0.9 });
      await m.add(b, { ...user, importance: 0.4 });
    }
    // Case and punctuation only: the same thing said twice (cosine 0.980).
    await m.add("I take the 7:40 train to work every morning.", { ...user, importance: 0.7 });
    const [copy] = (await m.add("i take the 7:40 train to work every morning", user)).results;

    const report = await m.forget(user);
    expect(report.removedIds).toEqual([copy!.id]);
    const left = (await m.getAll({ ...user, limit: 100 })).map((record) => record.content);
    for (const [a, b] of DIFFERENT) expect(left).toEqual(expect.arrayContaining([a, b]));
  });

  // A fact that ended (docs/facts.md: validUntil) is a period of the past; the same words true again
  // are a new period, a current fact. Merged, the more important one was kept: the past one, and
  // the user's current fact was deleted (search showed nothing of it any more).
  it("never merges an ended fact with a current one of the same words", async () => {
    const m = memories.open("validity", { writes: "sync" });
    const user = { userId: "jon" };
    const lastYear = Date.now() - 200 * 86_400_000;
    const [past] = (await m.add("User lives in Paris", { ...user, kind: "fact", importance: 0.9, metadata: { validFrom: lastYear - 86_400_000, validUntil: lastYear } })).results;
    // The same words (learned in another thread, so another record): the same vector.
    const [now] = (await m.add("User lives in Paris", { ...user, threadId: "t2", kind: "fact", metadata: { validFrom: Date.now() - 1_000 } })).results;
    const report = await m.forget(user);
    expect(report.removedIds).toEqual([]);
    expect((await m.getAll({ ...user, kind: "fact" })).map((record) => record.id)).toEqual([now!.id]);
    expect(await m.get(past!.id, user)).not.toBeNull();
  });
});
