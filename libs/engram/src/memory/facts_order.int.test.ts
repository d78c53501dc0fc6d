import { describe, expect, it } from "@jest/globals";
import { factModel, promptKind } from "../tests/fake_chat.js";
import { testMemories } from "../tests/memories.js";

// Exchanges are not always extracted in the order they were said: an old conversation imported
// after a newer one, or a job retried after a later thread's job ran. The reconciliation model is
// shown the stored facts' words, not their times, and says a new fact contradicts a stored one;
// when the new fact is the older, the stored fact is what is true now.
const memories = testMemories();

const extracted = (...texts: string[]): string => JSON.stringify({ facts: texts.map((text) => ({ text, entities: [] })) });
const decide = (...decisions: object[]): string => JSON.stringify({ decisions });

describe("facts: an exchange extracted after a later one", () => {
  it("a contradiction from the past does not end the newer fact: the older one is stored as ended by it", async () => {
    const model = factModel({
      extract: [extracted("User lives in Berlin"), extracted("User lives in Paris")],
      reconcile: [decide({ fact: 0, event: "INVALIDATE", id: "0" })],
    });
    const m = memories.open("order", { prefix: "order", model, facts: { debounceMs: 60_000 } });
    const paris = Date.UTC(2022, 0, 10);
    const berlin = Date.UTC(2023, 6, 1);
    await m.add("I moved to Berlin this month", { userId: "ora", threadId: "summer", createdAt: berlin });
    await m.flush();
    await m.add("I live in Paris", { userId: "ora", threadId: "winter", createdAt: paris });
    const [job] = await m.state.jobs("facts").pending({ userId: "ora" });
    await m.flush();
    // The model was asked, and decided that Paris contradicts Berlin.
    expect(model.calls.filter((messages) => promptKind(messages) === "reconcile")).toHaveLength(1);

    const current = await m.getAll({ userId: "ora", kind: "fact" });
    expect(current.map((fact) => fact.content)).toEqual(["User lives in Berlin"]);
    const berlinFact = current[0]!;
    expect(berlinFact.metadata.validFrom).toBe(berlin);
    expect(berlinFact.metadata.validUntil).toBeUndefined();

    const all = await m.getAll({ userId: "ora", kind: "fact", includeInvalid: true });
    const parisFact = all.find((fact) => fact.content === "User lives in Paris")!;
    expect(parisFact.metadata).toMatchObject({ validFrom: paris, validUntil: berlin, supersededBy: berlinFact.id });
    // Berlin was never ended: its history is its ADD alone.
    expect((await m.history(berlinFact.id, { userId: "ora" })).map((entry) => entry.event)).toEqual(["ADD"]);

    // The job run again (a crash after its writes, before it was marked done) stores nothing twice.
    await m.state.jobs("facts").add({ userId: job!.userId, group: job!.group, key: job!.key, payload: job!.payload });
    await m.flush();
    const again = await m.getAll({ userId: "ora", kind: "fact", includeInvalid: true });
    expect(again.map((fact) => fact.content).sort()).toEqual(["User lives in Berlin", "User lives in Paris"]);
    expect((await m.history(parisFact.id, { userId: "ora" })).map((entry) => entry.event)).toEqual(["ADD"]);
  });
});
