import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { planForget, type ForgetItem } from "./forget.js";
import { mayMerge, wording } from "./restatement.js";

const NOW = 1_000 * 86_400_000;

function item(id: string, content: string, embedding: number[]): ForgetItem {
  const record: MemoryRecord = {
    id,
    scope: { userId: "u" },
    kind: "fact",
    content,
    importance: 0.5,
    createdAt: NOW,
    updatedAt: NOW,
    lastAccessedAt: NOW,
    source: {},
    metadata: {},
  };
  return { record, embedding };
}

const merges = (a: string, b: string): boolean => mayMerge(wording(a), wording(b));

describe("restatements: what forgetting may merge besides a high cosine", () => {
  it("the same words in the same order, whatever the case, punctuation and spacing", () => {
    expect(merges("I take the 7:40 train.", "i take the  7:40 train")).toBe(true);
    expect(merges("Tom: I'm leading the backend team - five people", "Tom: I'm leading the backend team, five people.")).toBe(true);
    expect(merges("I moved to Oslo last spring", "I relocated to Oslo last spring")).toBe(true);
    expect(merges("I don't eat meat", "I do not eat meat")).toBe(true);
  });

  it("never texts that differ in the order of their shared words, in a number or in a negation", () => {
    expect(merges("Tom owes Maya $50", "Maya owes Tom $50")).toBe(false);
    expect(merges("Alice is Bob's manager", "Bob is Alice's manager")).toBe(false);
    expect(merges("My PIN is 4417", "My PIN is 4471")).toBe(false);
    expect(merges("I take the 7:40 train", "I take the 8:10 train")).toBe(false);
    expect(merges("I eat meat", "I do not eat meat")).toBe(false);
    expect(merges("I eat meat", "I don't eat meat")).toBe(false);
    expect(merges("I drink coffee every day", "I never drink coffee")).toBe(false);
  });

  // Cosines with the default local model; each pair was merged at the default 0.95.
  it("never texts that swap a number word, a day or month, or a word of order, frequency or quantity", () => {
    expect(merges("I have two kids", "I have three kids")).toBe(false); // 0.958
    expect(merges("My daughter is five years old", "My daughter is six years old")).toBe(false); // 0.992
    expect(merges("I am thirty", "I am thirty-one")).toBe(false); // 0.951
    expect(merges("The meeting moved to Monday", "The meeting moved to Tuesday")).toBe(false); // 0.985
    expect(merges("I work from home on Fridays", "I work from home on Thursdays")).toBe(false); // 0.975
    expect(merges("My son turns ten in August", "My son turns ten in April")).toBe(false); // 0.985
    expect(merges("I moved to Oslo before the wedding", "I moved to Oslo after the wedding")).toBe(false); // 0.989
    expect(merges("I earn more than my brother", "I earn less than my brother")).toBe(false); // 0.985
    expect(merges("I always drink tea in the morning", "I rarely drink tea in the morning")).toBe(false); // 0.971
    expect(merges("I have a couple of cats", "I have a few cats")).toBe(false); // 0.966
    expect(merges("I take the first train", "I take the second train")).toBe(false); // static model 0.977
  });

  it("still merges a number said in words or digits, and a day or month abbreviated", () => {
    expect(merges("I have 2 kids", "I have two kids")).toBe(true);
    expect(merges("I am thirty-one", "I am 31")).toBe(true);
    expect(merges("The dentist is on the first of June", "The dentist is on the 1st of June")).toBe(true);
    expect(merges("Gym on Mon and Fri", "Gym on Monday and Friday")).toBe(true);
    expect(merges("Rent is due in Sept", "Rent is due in September.")).toBe(true);
  });

  // The static model is a bag of pieces: it puts each of these pairs at cosine 0.98 to 1.0.
  it("planForget with the static model's vectors merges none of them", async () => {
    const pairs = [
      ["Tom owes Maya $50", "Maya owes Tom $50"],
      ["I prefer tea to coffee", "I prefer coffee to tea"],
      ["I eat meat", "I do not eat meat"],
      ["I drink coffee every day", "I never drink coffee every day"],
      ["The meeting moved from Monday to Tuesday", "The meeting moved from Tuesday to Monday"],
    ];
    const texts = pairs.flat();
    const vectors = await new StaticEmbeddings().embedDocuments(texts);
    const plan = planForget(
      texts.map((text, i) => item(`f${i}`, text, vectors[i]!)),
      {},
      NOW,
    );
    expect(plan.removals).toEqual([]);
  });
});
