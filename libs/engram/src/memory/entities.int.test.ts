import { expect, it } from "@jest/globals";
import type { EntityOptions } from "../scoring/entities.js";
import { testMemories } from "../tests/memories.js";
import type { Memory } from "./memory.js";

const memories = testMemories();

function memory(name: string, entities?: EntityOptions): Memory {
  // The date boost off: "on Friday" in the query and in a memory would match too, and these tests
  // isolate the entity boost (scoring/dates.ts has its own tests).
  return memories.open(name, { prefix: name, ranker: { dates: 0 }, ...(entities ? { entities } : {}) });
}

const texts = [
  "We had a wonderful seafood dinner by the harbour",
  "Sofia recommended the grilled octopus",
  "The trip to Lisbon was in March",
  "My favourite restaurant serves grilled fish",
  "Ana cooked dinner for us on Friday",
];

it("tags entities offline on add, and the entity boost lifts the memory whose names the query says", async () => {
  const plain = memory("noboost", { boost: 0 });
  // The boost is off by default (cross-validation on LoCoMo chose 0); this test turns it on.
  const boosted = memory("boost", { boost: 0.1 });
  for (const text of texts) {
    await plain.add(text, { userId: "u" });
    await boosted.add(text, { userId: "u" });
  }
  const byContent = new Map((await boosted.getAll({ userId: "u" })).map((r) => [r.content, r.metadata.entities]));
  expect(byContent.get("Ana cooked dinner for us on Friday")).toBe("ana|friday");
  expect(byContent.get("The trip to Lisbon was in March")).toBe("lisbon|march");
  expect(byContent.get("My favourite restaurant serves grilled fish")).toBeUndefined();

  const query = "Which grilled octopus place did Ana mention on Friday?";
  const without = await plain.search(query, { userId: "u", limit: 2 });
  const withBoost = await boosted.search(query, { userId: "u", limit: 2 });
  // Same store contents, same ranker: only the boost differs, and it reorders the top two.
  expect(without.map((r) => r.content)).toEqual(["Sofia recommended the grilled octopus", "Ana cooked dinner for us on Friday"]);
  expect(withBoost.map((r) => r.content)).toEqual(["Ana cooked dinner for us on Friday", "Sofia recommended the grilled octopus"]);
  // Two names said (Ana, Friday): + 0.1 * (1 - 0.5^2).
  expect(withBoost[0]!.score).toBeCloseTo(without[1]!.score + 0.075, 6);
});

it("extract: false stores no entities, and a caller's own entities metadata is kept", async () => {
  const off = memory("noextract", { extract: false });
  const [record] = (await off.add("Ana cooked dinner for us in Lisbon", { userId: "u" })).results;
  expect(record!.metadata).toEqual({});
  expect((await off.get(record!.id, { userId: "u" }))!.metadata).toEqual({});
  const on = memory("own", { extract: true });
  const [own] = (await on.add("Ana cooked dinner", { userId: "u", metadata: { entities: "ana banana" } })).results;
  expect(own!.metadata.entities).toBe("ana banana");
});

it("tagging follows the boost unless set: off by default (the boost is 0), on with a boost", async () => {
  const plain = memory("default-tagging");
  const boosted = memory("boost-tagging", { boost: 0.1 });
  const refused = memory("boost-untagged", { boost: 0.1, extract: false });
  for (const m of [plain, boosted, refused]) await m.add("Ana lives in Lisbon", { userId: "u" });
  const entities = async (m: Memory) => (await m.getAll({ userId: "u" }))[0]!.metadata.entities;
  expect(await entities(plain)).toBeUndefined();
  expect(await entities(boosted)).toBe("ana|lisbon");
  expect(await entities(refused)).toBeUndefined();
});

it("update re-tags the entities of new content, unless the patch sets metadata", async () => {
  const m = memory("retag", { extract: true });
  const [record] = (await m.add("Ana lives in Lisbon", { userId: "u" })).results;
  // The tagger runs when the write drains, off add's path: add returns the record as queued, and
  // once stored (get drains the user's writes first) it is tagged.
  expect(record!.metadata).toEqual({});
  expect((await m.get(record!.id, { userId: "u" }))!.metadata).toEqual({ entities: "ana|lisbon" });
  const moved = await m.update(record!.id, "Ana lives in Porto now", { userId: "u" });
  expect(moved.metadata).toEqual({ entities: "ana|porto" });
  const tagged = await m.update(record!.id, { content: "Ana lives in Faro", metadata: { topic: "home" } }, { userId: "u" });
  expect(tagged.metadata).toEqual({ topic: "home" });
});

it("stores the dates a text speaks of, resolved against the time it was written, and re-resolves them on update", async () => {
  // 1:56 pm on 8 May 2023, a LoCoMo session's time.
  const at = Date.UTC(2023, 4, 8, 13, 56);
  const m = memories.open("dates", { prefix: "dates", clock: () => at });
  const [said] = (await m.add("I went to a support group yesterday", { userId: "u" })).results;
  expect(said!.metadata.dates).toBe("d:2023-05-07|m:2023-05|y:2023");
  const [plain] = (await m.add("I like pottery", { userId: "u" })).results;
  expect(plain!.metadata.dates).toBeUndefined();
  const moved = await m.update(said!.id, "I went to a support group last Saturday", { userId: "u" });
  expect(moved.metadata.dates).toBe("d:2023-05-06|m:2023-05|y:2023");
  const undated = await m.update(said!.id, "I went to a support group", { userId: "u" });
  expect(undated.metadata.dates).toBeUndefined();
  // The question names the day; the turn said "yesterday" the day after.
  await m.update(said!.id, "I went to a support group yesterday", { userId: "u" });
  const [top] = await m.search("What did I do on 7 May 2023?", { userId: "u", limit: 1 });
  expect(top!.content).toBe("I went to a support group yesterday");
});

it("with entity tagging off, the dates are still resolved and stored (add, addMany, update), and the date boost finds them", async () => {
  const at = Date.UTC(2023, 4, 8, 13, 56);
  const m = memories.open("dates-untagged", { prefix: "dates-untagged", clock: () => at, entities: { extract: false } });
  const [said] = (await m.add("Ana went to a support group yesterday", { userId: "u" })).results;
  expect(said!.metadata).toEqual({ dates: "d:2023-05-07|m:2023-05|y:2023" });
  await m.addMany([{ content: "We moved to Lisbon two weeks ago", createdAt: at + 86_400_000 }, { content: "I like pottery" }], { userId: "u" });
  const stored = new Map((await m.getAll({ userId: "u" })).map((record) => [record.content, record.metadata]));
  // Stored in Chroma as added: dates, no entities.
  expect(stored.get("Ana went to a support group yesterday")).toEqual({ dates: "d:2023-05-07|m:2023-05|y:2023" });
  // Resolved against the item's own time (9 May): the week two weeks before.
  expect(stored.get("We moved to Lisbon two weeks ago")!.dates).toBe("d:2023-04-22|m:2023-04|y:2023|d:2023-04-23|d:2023-04-24|d:2023-04-25|d:2023-04-26|d:2023-04-27|d:2023-04-28");
  expect(stored.get("We moved to Lisbon two weeks ago")!.entities).toBeUndefined();
  expect(stored.get("I like pottery")).toEqual({});
  const moved = await m.update(said!.id, "Ana went to a support group last Saturday", { userId: "u" });
  expect(moved.metadata).toEqual({ dates: "d:2023-05-06|m:2023-05|y:2023" });
  const [top] = await m.search("What did Ana do on 6 May 2023?", { userId: "u", limit: 1 });
  expect(top!.content).toBe("Ana went to a support group last Saturday");
});

it('with writes: "background" (the model runs in the drain), the stored record has its entities, and the boost uses them', async () => {
  const m = memories.open("bg-entities", { prefix: "bg-entities", writes: "background", entities: { boost: 0.1 } });
  for (const text of texts) await m.add(text, { userId: "u" });
  await m.flush();
  const byContent = new Map((await m.getAll({ userId: "u" })).map((r) => [r.content, r.metadata.entities]));
  expect(byContent.get("Ana cooked dinner for us on Friday")).toBe("ana|friday");
  expect(byContent.get("The trip to Lisbon was in March")).toBe("lisbon|march");
  const top = await m.search("Which grilled octopus place did Ana mention on Friday?", { userId: "u", limit: 1 });
  expect(top[0]?.content).toBe("Ana cooked dinner for us on Friday");
});
