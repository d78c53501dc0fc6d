import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";
import { factModel, promptKind } from "../tests/fake_chat.js";

// Facts belong to a user and an agent (docs/facts.md: the neighbours are "the nearest currently
// valid facts of the same user (and agent)"). A job of the user without an agent searched every
// agent's facts, so the model was shown, and could end or rewrite, another agent's fact.
const memories = testMemories();

describe("facts: reconciliation stays within the job's agent", () => {
  it("an exchange without an agent neither shows nor changes the travel agent's fact", async () => {
    const model = factModel({
      extract: [JSON.stringify({ facts: [{ text: "User's passport number is 456", entities: [] }] })],
      reconcile: [JSON.stringify({ decisions: [{ fact: 0, event: "INVALIDATE", id: "0" }] })],
    });
    const m = memories.open("agents", { prefix: "agents", model, facts: { debounceMs: 60_000 } });
    const [travel] = (await m.add("User's passport number is 123", { userId: "ada", agentId: "travel", kind: "fact" })).results;
    await m.add("My new passport number is 456", { userId: "ada" });
    await m.flush();
    expect(model.calls.filter((messages) => promptKind(messages) === "reconcile")).toHaveLength(0);
    const after = await m.get(travel!.id, { userId: "ada", agentId: "travel" });
    expect(after?.metadata.validUntil).toBeUndefined();
    expect((await m.getAll({ userId: "ada", kind: "fact" })).map((record) => record.content).sort()).toEqual([
      "User's passport number is 123",
      "User's passport number is 456",
    ]);
  });
});
