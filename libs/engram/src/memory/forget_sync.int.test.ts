import { describe, expect, it } from "@jest/globals";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { testMemories } from "../tests/memories.js";
import { replyHoldProxySuite, requestIds } from "../tests/reply_hold_proxy.js";

/*
 * What a synchronous forgetting pass reports when the drain drops its writes. Its merges and deletes
 * carry `ifStoredAs` (writer.ts) and are dropped when the user changed a record after the pass's
 * last check. With `writes: "sync"` the pass returns once its writes are drained: its report must
 * name only what was removed, not a duplicate that stays.
 */

const memories = testMemories();
const held = replyHoldProxySuite(() => memories.chroma.server.url);

describe("a synchronous forgetting pass whose writes the drain drops", () => {
  it("reports nothing removed when the user changed the kept record after the pass's last check", async () => {
    const m = memories.open("forget-sync", { prefix: "fs", chroma: { url: held.proxy.url }, embeddings: new HashEmbeddings(), writes: "sync" });
    const user = { userId: "eli" };
    const [kept] = (await m.add("I take the 7:40 train to work every morning.", { ...user, importance: 0.7 })).results;
    const [dup] = (await m.add("I take the 7:40 train to work every morning", user)).results;

    let reads = 0;
    const check = held.proxy.hold((request) => request.path.endsWith("/get") && requestIds(request).length >= 2 && (reads += 1) === 2);
    const forgetting = m.forget(user);
    await check.answered;
    await m.update(kept!.id, "I cycle to work now, no more trains", user);
    check.release();
    const report = await forgetting;

    expect((await m.get(dup!.id, user))?.content).toBe("I take the 7:40 train to work every morning");
    expect(report).toMatchObject({ pending: false, merged: 0, removedIds: [] });
  });
});
