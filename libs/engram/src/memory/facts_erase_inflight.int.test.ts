import { describe, expect, it } from "@jest/globals";
import { factModel } from "../tests/fake_chat.js";
import { testMemories } from "../tests/memories.js";

// deleteAll drops the user's waiting extraction jobs and waits for a run of theirs in flight, so
// that nothing it writes outlives the erasure. The run spends its time in model calls, which may
// take minutes (or never end, with no timeout): the erasure waited for them.
const memories = testMemories();

describe("deleteAll while the user's fact extraction is in its model call", () => {
  it("stops the call instead of waiting for its answer; nothing of the user is written, no failure is reported", async () => {
    let answered = false;
    // The model answers a minute after it is asked, unless the call is aborted first.
    const model = factModel(
      {
        extract: [
          () => {
            answered = true;
            return JSON.stringify({ facts: [{ text: "User is called Eve", entities: [] }] });
          },
        ],
      },
      { delayMs: 60_000 },
    );
    const m = memories.open("erase", { prefix: "erase", model, facts: { debounceMs: 0 } });
    await m.add("Hi, I'm Eve", { userId: "eve", threadId: "t" });
    while (model.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const erased = await m.deleteAll({ userId: "eve" });
    expect(erased.extractions).toBe(1);
    // Returned without the model's answer.
    expect(answered).toBe(false);
    await m.flush(); // no failure: an erased user's run is not an error
    expect(await m.getAll({ userId: "eve", includeInvalid: true })).toEqual([]);
    expect(await m.state.jobs("facts").pending({ userId: "eve" })).toEqual([]);
  });
});
