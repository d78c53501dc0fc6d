import { describe, expect, it } from "@jest/globals";
import type { BaseMessage } from "@langchain/core/messages";
import { testMemories } from "../tests/memories.js";
import { factModel, promptKind } from "../tests/fake_chat.js";

// The extraction jobs of a thread's burst of turns run together. A burst of many turns (a
// history imported turn by turn, a busy thread within the debounce) made one prompt of all of
// them: a faithful model answering with more facts than one reply may hold (50) was refused, and
// every job of the burst was dropped with its facts.
const memories = testMemories();

const TURNS = 60;

/** The "user: My favourite number is N" lines of an extraction prompt, one fact each. */
function factsIn(messages: BaseMessage[]): string {
  const said = [...messages.map((m) => m.text).join("\n").matchAll(/user: My favourite number is (\d+)/g)].map((match) => match[1]!);
  return JSON.stringify({ facts: said.map((n) => ({ text: `User likes the number ${n}`, entities: [n] })) });
}

/** Every new fact of a reconciliation prompt is new. */
function allAdded(messages: BaseMessage[]): string {
  const text = messages.map((m) => m.text).join("\n");
  const count = JSON.parse(text.slice(text.indexOf("New facts:\n") + "New facts:\n".length)).length as number;
  return JSON.stringify({ decisions: Array.from({ length: count }, (_, fact) => ({ fact, event: "ADD" })) });
}

describe("facts: a long burst of turns in one thread", () => {
  it("is extracted in runs of bounded size, and every fact of it is kept", async () => {
    const model = factModel({ extract: [factsIn], reconcile: [allAdded] });
    const m = memories.open("burst", { prefix: "burst", model, facts: { debounceMs: 60_000 } });
    const user = { userId: "nora", threadId: "import" };
    for (let n = 1; n <= TURNS; n += 1) await m.add(`My favourite number is ${n}`, user);
    const failures = await m.flush();
    expect(failures).toEqual({ applied: expect.any(Number), pending: 0 });
    const extractions = model.calls.filter((messages) => promptKind(messages) === "extract");
    expect(extractions.length).toBeGreaterThan(1);
    for (const prompt of extractions) expect(JSON.parse(factsIn(prompt)).facts.length).toBeLessThanOrEqual(50);
    const facts = await m.getAll({ userId: "nora", kind: "fact", limit: 1_000 });
    expect(facts).toHaveLength(TURNS);
  });
});
