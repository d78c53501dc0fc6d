import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";
import { factModel, promptKind } from "../tests/fake_chat.js";

// A job of the user without an agent reconciles against the user's own facts only, found by a
// search of the user's facts that returns every agent's too (facts_agents.int.test.ts). The search
// took the nearest `facts.neighbours` of all of them, then dropped the other agents': an agent with
// many near facts left the job none of its own, and a contradiction became a second current fact.
const memories = testMemories();

describe("facts: a job without an agent, among many facts of an agent", () => {
  it("is still shown its own nearest fact, and can end it", async () => {
    const model = factModel({
      extract: [JSON.stringify({ facts: [{ text: "User lives in Berlin", entities: ["Berlin"] }] })],
      reconcile: [JSON.stringify({ decisions: [{ fact: 0, event: "INVALIDATE", id: "0" }] })],
    });
    const m = memories.open("crowded", { prefix: "crowded", model, facts: { debounceMs: 60_000 } });
    const [paris] = (await m.add("User lives in Paris", { userId: "ada", kind: "fact" })).results;
    for (let i = 1; i <= 8; i += 1) {
      await m.add(`User lives in the Berlin hotel room ${i} during trip ${i}`, { userId: "ada", agentId: "travel", kind: "fact" });
    }
    await m.add("I moved to Berlin last month", { userId: "ada" });
    await m.flush();
    const reconcile = model.calls.filter((messages) => promptKind(messages) === "reconcile").map((messages) => messages.map((x) => x.text).join("\n"));
    expect(reconcile).toHaveLength(1);
    expect(reconcile[0]).toContain("User lives in Paris");
    expect(reconcile[0]).not.toContain("hotel room");
    expect((await m.getAll({ userId: "ada", kind: "fact" })).filter((fact) => fact.scope.agentId === undefined).map((fact) => fact.content)).toEqual([
      "User lives in Berlin",
    ]);
    expect((await m.get(paris!.id, { userId: "ada" }))?.metadata.validUntil).toEqual(expect.any(Number));
  });
});
