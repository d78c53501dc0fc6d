import { describe, expect, it } from "@jest/globals";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { testMemories } from "../tests/memories.js";
import { replyHoldProxySuite, requestIds } from "../tests/reply_hold_proxy.js";

/*
 * What a read shows of queued conditional writes. A forgetting pass queues its merges and deletes
 * with `ifStoredAs` (writer.ts): each applies only while its records are stored as the pass read
 * them. When the user changed a record after the pass's last check, the drain drops them. Until it
 * does, reads rank the outbox's queued writes with the stored memories (pending_overlay.ts), and
 * they showed those writes as landing: a search, get and getAll hid the duplicate whose delete will
 * be dropped, and showed the kept record with its old text, over the user's newer update. A read
 * must show what the drain will leave: the queued writes replayed over what is stored, each
 * conditional one only if its condition holds there.
 */

const memories = testMemories();
const held = replyHoldProxySuite(() => memories.chroma.server.url);

describe("a read while a forgetting pass's conditional writes wait in the outbox", () => {
  it("shows the records as the drain will leave them: the user's update stays, the duplicate is not hidden", async () => {
    const m = memories.open("overlay-sync", { prefix: "os", chroma: { url: held.proxy.url }, embeddings: new HashEmbeddings(), writes: "background" });
    const user = { userId: "eli" };
    const [kept] = (await m.add("I take the 7:40 train to work every morning.", { ...user, importance: 0.7 })).results;
    const [dup] = (await m.add("I take the 7:40 train to work every morning", user)).results;
    await m.flush();

    // forget reads both records twice (its plan, then its check of what changed meanwhile): the
    // check's answer is held while the user updates the kept record, so the merge is decided on the old copy.
    let reads = 0;
    const check = held.proxy.hold((request) => request.path.endsWith("/get") && requestIds(request).length >= 2 && (reads += 1) === 2);
    const forgetting = m.forget(user);
    await check.answered;
    await m.update(kept!.id, "I cycle to work now, no more trains", user);
    await m.flush();
    // The drain's read of the records the queued writes are conditioned on is held: they stay queued.
    const drainCheck = held.proxy.hold((request) => request.path.endsWith("/get") && requestIds(request).includes(kept!.id));
    check.release();
    const report = await forgetting;
    expect(report).toMatchObject({ pending: true, removedIds: [dup!.id] }); // queued, not applied
    await drainCheck.answered;

    const expected = [
      [kept!.id, "I cycle to work now, no more trains"],
      [dup!.id, "I take the 7:40 train to work every morning"],
    ].sort();
    const hits = await m.search("train to work", { ...user, limit: 10 });
    expect(hits.map((hit) => [hit.id, hit.content]).sort()).toEqual(expected);
    expect((await m.getAll(user)).map((record) => [record.id, record.content]).sort()).toEqual(expected);
    expect((await m.get(dup!.id, user))?.content).toBe("I take the 7:40 train to work every morning");
    expect((await m.get(kept!.id, user))?.content).toBe("I cycle to work now, no more trains");

    // And that is what the drain leaves.
    drainCheck.release();
    await m.flush();
    expect((await m.getAll(user)).map((record) => [record.id, record.content]).sort()).toEqual(expected);
  });
});
