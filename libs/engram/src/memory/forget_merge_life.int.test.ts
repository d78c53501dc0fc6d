import { describe, expect, it } from "@jest/globals";
import { StaticEmbeddings } from "../embeddings/static.js";
import { testMemories } from "../tests/memories.js";

/*
 * What a merge of near-duplicates lost. The kept record (the most important) kept its own
 * expiry: the same words stored once for a day and once for good were one memory gone the next
 * day. And the same words about other days ("I went to the gym yesterday", said on Monday and on
 * Thursday) are two events, yet were merged into one: a question about either day lost its answer.
 * And a copy another agent, or another metadata filter, reads: merged away, that read lost it.
 */
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 7, 12); // a Monday, noon
const memories = testMemories();

describe("Memory.forget's merges", () => {
  const embeddings = new StaticEmbeddings();

  it("keep a memory stored for good, when its more important copy was stored for a day", async () => {
    const clock = { now: T0 };
    const m = memories.open("merge-life", { clock: () => clock.now, embeddings, writes: "sync" });
    const userId = "rosa";
    const text = "Platform 4 is closed for repairs";
    const [kept] = (await m.add([{ role: "user", id: "m1", content: text }], { userId, threadId: "t1", importance: 0.9, expiresAt: T0 + DAY })).results;
    await m.add([{ role: "user", id: "m2", content: text }], { userId, threadId: "t2", importance: 0.2 });
    const report = await m.forget({ userId });
    expect(report.merged).toBe(1);

    clock.now = T0 + 3 * DAY;
    expect((await m.getAll({ userId })).map((record) => [record.id, record.expiresAt])).toEqual([[kept!.id, undefined]]);
    expect((await m.search("platform closed", { userId })).map((hit) => hit.id)).toEqual([kept!.id]);
    expect((await m.forget({ userId })).removedIds).toEqual([]);
  });

  it("never merge the same words said about other days", async () => {
    const clock = { now: T0 };
    const m = memories.open("merge-days", { clock: () => clock.now, embeddings, writes: "sync" });
    const userId = "sam";
    const text = "I went to the gym yesterday";
    await m.add([{ role: "user", id: "m1", content: text }], { userId, threadId: "monday" });
    clock.now = T0 + 3 * DAY;
    await m.add([{ role: "user", id: "m2", content: text }], { userId, threadId: "thursday" });
    expect((await m.forget({ userId })).removedIds).toEqual([]);
    const [best] = await m.search("Where did I go on 9 December 2026?", { userId, limit: 1 });
    expect(best?.scope.threadId).toBe("thursday");
    const [other] = await m.search("Where did I go on 6 December 2026?", { userId, limit: 1 });
    expect(other?.scope.threadId).toBe("monday");
  });

  it("keep each agent's copy, and each copy a metadata filter finds", async () => {
    const m = memories.open("merge-holders", { embeddings, writes: "sync" });
    const userId = "ines";
    const text = "Always answer in French";
    await m.add(text, { userId, agentId: "planner", kind: "procedure", importance: 0.9 });
    await m.add(text, { userId, agentId: "writer", kind: "procedure" });
    // Said in two threads (the same words in one thread are one record, by id).
    await m.add("The deadline is Friday", { userId, threadId: "t1", metadata: { project: "apollo" }, importance: 0.9 });
    await m.add("The deadline is Friday", { userId, threadId: "t2", metadata: { project: "gemini" } });
    expect((await m.forget({ userId })).merged).toBe(0);
    expect((await m.getAll({ userId, agentId: "writer", kind: "procedure" })).map((record) => record.content)).toEqual([text]);
    expect((await m.getAll({ userId, agentId: "planner", kind: "procedure" })).map((record) => record.content)).toEqual([text]);
    const [gemini] = await m.search("When is the deadline?", { userId, filters: { metadata: { project: "gemini" } } });
    expect(gemini?.content).toBe("The deadline is Friday");
  });
});
