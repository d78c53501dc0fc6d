import { describe, expect, it } from "@jest/globals";
import { StaticEmbeddings } from "../embeddings/static.js";
import { testMemories } from "../tests/memories.js";
import { Procedures } from "./procedures.js";

/*
 * The cap evicts the lowest retention (importance halved every 30 days since last access), and
 * nothing counts as access of a learned instruction: it is shown in every system prompt, never
 * searched for. So an instruction of three months was the first to go, before the week's small
 * talk, and the agent stopped following it without anyone retiring it.
 */
const DAY = 86_400_000;
const T0 = 20_000 * DAY;
const memories = testMemories();

describe("Memory.forget's cap and learned instructions", () => {
  it("keeps an old instruction and evicts the weakest episode instead", async () => {
    const clock = { now: T0 };
    const m = memories.open("cap-procedures", { clock: () => clock.now, embeddings: new StaticEmbeddings(), writes: "sync" });
    const user = { userId: "noor" };
    const procedures = new Procedures(m);
    const instruction = await procedures.learn("Always answer in French", user);

    clock.now = T0 + 90 * DAY;
    await m.add("We talked about the weather", { ...user, importance: 0.1 });
    await m.add("I went to the cinema yesterday", { ...user, importance: 0.3 });
    await m.add("My cat is called Miso", { ...user, importance: 0.4 });
    const report = await m.forget({ ...user, maxRecords: 3 });

    expect(report.evicted).toBe(1);
    expect((await procedures.list(user)).map((record) => record.id)).toEqual([instruction.id]);
    expect((await m.getAll(user)).map((record) => record.content).sort()).toEqual(["Always answer in French", "I went to the cinema yesterday", "My cat is called Miso"]);
  });
});
