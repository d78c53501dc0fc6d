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
