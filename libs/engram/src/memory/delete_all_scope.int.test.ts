import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";
import { codeOf } from "../tests/runs.js";

/*
 * `deleteAll` erases the whole user. Its options are a `Scope`, whose type has `agentId` and
 * `threadId`, and `search` / `getAll` / `forget` narrow to them: a mem0 user's
 * `deleteAll({ userId, agentId })` (mem0's delete_all deletes what matches both) must not quietly
 * erase every other agent's and thread's memories of that user too.
 */
const memories = testMemories();

describe("deleteAll names the user only", () => {
  it.each(["background", "sync"] as const)("refuses an agentId or a threadId before erasing anything (%s writes)", async (writes) => {
    const m = memories.open(`scope-${writes}`, { writes });
    const user = { userId: "alice" };
    await m.add("Alice's travel agent booked her flight to Lisbon", { ...user, agentId: "travel", threadId: "t1" });
    await m.add("Alice's cooking agent knows she is vegetarian", { ...user, agentId: "cooking", threadId: "t2" });
    await m.flush();
    const ids = (await m.getAll(user)).map((record) => record.id).sort();
    expect(ids).toHaveLength(2);

    expect(await codeOf(m.deleteAll({ ...user, agentId: "travel" }))).toBe("INVALID_SCOPE");
    expect(await codeOf(m.deleteAll({ ...user, threadId: "t1" }))).toBe("INVALID_SCOPE");

    await m.flush();
    expect((await m.getAll(user)).map((record) => record.id).sort()).toEqual(ids);
    expect((await m.search("vegetarian", { ...user, agentId: "cooking" })).map((record) => record.id)).toHaveLength(1);
    for (const id of ids) expect((await m.history(id, user)).map((entry) => entry.event)).toEqual(["ADD"]);

    expect((await m.deleteAll(user)).deleted).toBe(2);
    expect(await m.getAll(user)).toEqual([]);
  });
});
