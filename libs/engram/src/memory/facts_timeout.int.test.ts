import { describe, expect, it } from "@jest/globals";
import { factModel } from "../tests/fake_chat.js";
import { testMemories } from "../tests/memories.js";
import { codeOf, codeOfSync } from "../tests/runs.js";

// A fact-extraction model call that never answers (a provider SDK that ignores the abort signal,
// a connection that hangs) held the run, and with it the user's extraction lock, for ever: that
// user's extraction stopped in every process, `deleteAll` of the user elsewhere waited on the lock,
// and `flush()` never returned. Each call now has `facts.timeoutMs`; past it the job fails like
// any model failure and stays queued.
const memories = testMemories();

describe("facts.timeoutMs", () => {
  it("abandons a model call that never answers: flush reports MODEL_ERROR, the job stays queued, and a later run stores its facts", async () => {
    const model = factModel({
      extract: [
        // Never settles, and ignores the call's signal.
        () => new Promise<string>(() => undefined),
        JSON.stringify({ facts: [{ text: "User plays the cello", entities: [] }] }),
      ],
    });
    const m = memories.open("timeout", { prefix: "timeout", model, facts: { debounceMs: 60_000, timeoutMs: 200, maxAttempts: 1 } });
    await m.add([{ role: "user", content: "I started cello lessons this week" }, { role: "assistant", content: "Lovely!" }], { userId: "cai", threadId: "t" });

    expect(await codeOf(m.flush())).toBe("MODEL_ERROR");
    expect(await m.state.jobs("facts").pending({ userId: "cai" })).toHaveLength(1);
    expect(model.calls).toHaveLength(1);

    await m.flush();
    expect((await m.getAll({ userId: "cai", kind: "fact" })).map((record) => record.content)).toEqual(["User plays the cello"]);
    expect(await m.state.jobs("facts").pending({ userId: "cai" })).toEqual([]);
  });

  it("is checked when the Memory is made", () => {
    const model = factModel({ extract: ["{}"] });
    for (const timeoutMs of [0, -1, 1.5, Number.NaN, 3_600_001]) {
      expect(codeOfSync(() => memories.open(`bad-${String(timeoutMs)}`, { model, facts: { timeoutMs } }))).toBe("INVALID_OPTIONS");
    }
  });
});
