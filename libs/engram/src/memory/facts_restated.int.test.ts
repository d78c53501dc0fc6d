import { describe, expect, it } from "@jest/globals";
import { factModel } from "../tests/fake_chat.js";
import { testMemories } from "../tests/memories.js";

// docs/facts.md: "a model that says ADD for a fact that is already stored and current never stores
// a fact twice". A fact's id comes from its words, but a stored fact may hold its words under
// another id: a fact the app added itself, or one an UPDATE rewrote.
const memories = testMemories();

const extracted = (text: string): string => JSON.stringify({ facts: [{ text, entities: [] }] });
const decide = (...decisions: object[]): string => JSON.stringify({ decisions });

describe("facts: ADD of a fact already stored under another id", () => {
  it("stores nothing twice, whether the fact was added by the app or rewritten by an UPDATE", async () => {
    const model = factModel({
      extract: [extracted("User lives in Paris."), extracted("User likes pizza"), extracted("User loves pepperoni pizza")],
      reconcile: [decide({ fact: 0, event: "ADD" }), decide({ fact: 0, event: "UPDATE", id: "0", text: "User loves pepperoni pizza" }), decide({ fact: 0, event: "ADD" })],
    });
    const m = memories.open("restated", { prefix: "restated", model, facts: { debounceMs: 60_000 } });
    await m.add("User lives in Paris", { userId: "rae", kind: "fact" });
    await m.add("I live in Paris", { userId: "rae" });
    await m.flush();
    await m.add("User likes pizza", { userId: "rae", kind: "fact" });
    await m.add("I like pizza", { userId: "rae" });
    await m.flush();
    await m.add("I love pepperoni pizza", { userId: "rae" });
    await m.flush();
    const contents = (await m.getAll({ userId: "rae", kind: "fact" })).map((fact) => fact.content).sort();
    expect(contents).toEqual(["User lives in Paris", "User loves pepperoni pizza"]);
  });
});
