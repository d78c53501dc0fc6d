import { describe, expect, it } from "@jest/globals";
import { StaticEmbeddings } from "../embeddings/static.js";
import { testMemories } from "../tests/memories.js";

/*
 * Search hides memories past their `expiresAt` (and facts no longer valid). It hid them after
 * ranking, and the ranking keeps one copy of each text: when the same words were stored twice (two
 * threads, two messages) and the copy that ranked first had expired, the live copy was dropped as
 * its duplicate and the expired one then hidden: the memory was not found at all. Expired records
 * also took the candidate places, so enough of them near a query pushed a live memory out.
 */

const DAY = 86_400_000;
const T0 = 20_000 * DAY;
const TEXT = "I take the 7:40 train to work every morning";
const memories = testMemories();

describe("search never lets an expired memory hide a live one", () => {
  const embeddings = new StaticEmbeddings();

  it("finds the live copy of a text whose best-ranked copy expired", async () => {
    const clock = { now: T0 };
    const m = memories.open("expired-duplicate", { clock: () => clock.now, embeddings });
    const userId = "alice";
    // The expired copy is the more important one, so it ranks first.
    const [gone] = (await m.add([{ role: "user", id: "m1", content: TEXT }], { userId, threadId: "t1", importance: 0.9, expiresAt: T0 + DAY })).results;
    const [kept] = (await m.add([{ role: "user", id: "m2", content: TEXT }], { userId, threadId: "t2", importance: 0.1 })).results;
    expect(gone!.id).not.toBe(kept!.id);
    await m.flush();
    expect((await m.search("train to work", { userId })).map((hit) => hit.id)).toEqual([gone!.id]);

    clock.now = T0 + 2 * DAY;
    expect((await m.search("train to work", { userId })).map((hit) => hit.id)).toEqual([kept!.id]);
    expect((await m.search("train to work", { userId, limit: 1, ranker: { candidates: 1 } })).map((hit) => hit.id)).toEqual([kept!.id]);
  });

  it("finds the current copy of a text whose best-ranked copy is a fact no longer valid", async () => {
    const clock = { now: T0 };
    const m = memories.open("invalid-duplicate", { clock: () => clock.now, embeddings });
    const userId = "carol";
    const fact = "Carol lives in Oslo";
    const [ended] = (await m.add([{ role: "user", id: "m1", content: fact }], { userId, threadId: "t1", importance: 0.9, metadata: { validUntil: T0 + DAY } })).results;
    const [current] = (await m.add([{ role: "user", id: "m2", content: fact }], { userId, threadId: "t2", importance: 0.1 })).results;
    await m.flush();
    clock.now = T0 + 2 * DAY;
    expect((await m.search("where does Carol live", { userId })).map((hit) => hit.id)).toEqual([current!.id]);
    expect((await m.search("where does Carol live", { userId, includeInvalid: true })).map((hit) => hit.id)).toEqual([ended!.id]);
  });

  it("does not let expired memories take every candidate place", async () => {
    const clock = { now: T0 };
    const m = memories.open("expired-crowd", { clock: () => clock.now, embeddings });
    const userId = "bob";
    for (const day of ["Monday", "Tuesday", "Wednesday"]) {
      await m.add(`Platform 4 is closed for repairs on ${day}`, { userId, expiresAt: T0 + DAY });
    }
    const [open] = (await m.add("Trains leave from platform 5 this month", { userId })).results;
    await m.flush();
    clock.now = T0 + 2 * DAY;
    // Three candidates from each retriever (limit 1): the three expired notices are nearer the query.
    const hits = await m.search("platform 4 closed for repairs", { userId, limit: 1, ranker: { candidates: 3 } });
    expect(hits.map((hit) => hit.id)).toEqual([open!.id]);
  });
});
