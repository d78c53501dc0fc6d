import { describe, expect, it, jest } from "@jest/globals";
import { addTwoSayings, DUPLICATE_TEXT, oneState } from "../tests/forget_peers.js";
import { queuedPayload } from "../tests/outbox_rows.js";
import { raceSuite, type KillablePeer } from "../tests/peers.js";
import { replyHoldProxySuite, requestIds, type SeenRequest, readOfOne } from "../tests/reply_hold_proxy.js";
import { waitFor } from "../tests/wait.js";

/*
 * A forgetting pass's merge is one decision over a group: the kept record takes the group's
 * message ids, the duplicates are deleted. It must land whole or not at all (docs/forgetting.md),
 * whatever another process does to the group's records between the pass's last check and its
 * drain. Real processes on one store and one state (SQLite folder, PostgreSQL); the proxy
 * (tests/reply_hold_proxy.ts) holds answers to put each step in the window.
 */

jest.setTimeout(300_000); // a hang, not a slow machine

interface Stored {
  id: string;
  content: string;
  source: { messageIds?: string[] };
}

const suite = raceSuite();
const held = replyHoldProxySuite(() => suite.chroma.server.url);

/** The pass's second read of the group (its check of what changed since it planned): a get of two ids or more. */
function passCheck(): (request: SeenRequest) => boolean {
  let reads = 0;
  return (request) => request.path.endsWith("/get") && requestIds(request).length >= 2 && (reads += 1) === 2;
}

/** Every message id the user's stored records name, sorted: what no race may lose. */
async function messageIdsOf(peer: KillablePeer, user: { userId: string }): Promise<string[]> {
  return (await peer.call<Stored[]>("getAll", user)).flatMap((record) => record.source.messageIds ?? []).sort();
}

describe.each(["sqlite", "postgres"] as const)("a forgetting merge racing other processes, state in %s", (kind) => {
  let n = 0;
  const test = async () => oneState(suite, kind, `forget-merge-${(n += 1)}`);

  // Process B's update replaces, in the outbox, the merge's write of the kept record that process A
  // queued (one queued write per record). The duplicate's delete was still queued, on the condition
  // that the kept record be stored as A read it or as its merge writes it: stored as read, it went
  // on, and the duplicate's message id was in no record any more.
  it("does not delete the duplicate when an update replaced its queued write of the kept record", async () => {
    const { start, user, state } = await test();
    const [a, b, c] = [start("a", held.proxy.url), start("b", held.proxy.url), start("c", held.proxy.url)];
    const { kept, duplicate } = await addTwoSayings(a, user);

    const read = held.proxy.hold(readOfOne(kept));
    const updating = b.call<Stored>("update", kept, "I take the 7:40 train to work every weekday morning.", user);
    await read.answered; // B has read the kept record
    const check = held.proxy.hold(passCheck());
    const forgetting = a.call<{ removedIds: string[] }>("forget", user);
    await check.answered; // A has planned the merge
    const upsert = held.proxy.hold((request) => request.path.endsWith("/upsert") && request.body.includes("I keep bees."));
    const adding = c.call("add", "I keep bees.", user);
    await upsert.answered; // C's drain holds the user's drain lock
    check.release();
    expect(await waitFor(async () => (await queuedPayload(state, user.userId, `delete:${duplicate}`)) !== undefined)).toBe(true);
    read.release();
    expect(await waitFor(async () => (await queuedPayload(state, user.userId, `upsert:${kept}`))?.includes("weekday") === true)).toBe(true);
    upsert.release();
    await adding;
    const [report, updated] = await Promise.all([forgetting, updating]);

    expect(updated.content).toBe("I take the 7:40 train to work every weekday morning.");
    for (const peer of [a, b, c]) {
      expect(await messageIdsOf(peer, user)).toEqual(["m-1", "m-2"]);
      expect((await peer.call<Stored | null>("get", duplicate, user))?.content).toBe(DUPLICATE_TEXT);
      expect((await peer.call<Stored | null>("get", kept, user))?.content).toBe("I take the 7:40 train to work every weekday morning.");
      // The merge never landed: its entry is not history (the replacing update carried it).
      const history = await peer.call<Array<{ event: string; reason: string }>>("history", kept, user);
      expect(history.map((entry) => `${entry.event}:${entry.reason}`)).toEqual(["ADD:add", "UPDATE:update"]);
    }
    expect(report.removedIds).toEqual([]);
  });

  // The kept record's write was conditioned on the kept record alone: a duplicate the user deleted
  // or changed after the pass's last check kept its own fate (its delete was dropped, or it was
  // gone already), and the kept record took its message ids all the same: a message of a memory
  // the user deleted named again, or one message the source of two memories that differ.
  it.each([
    ["deleted", (peer: KillablePeer, id: string, user: { userId: string }) => peer.call("delete", id, user)],
    ["updated", (peer: KillablePeer, id: string, user: { userId: string }) => peer.call("update", id, "I take the 8:10 bus to work now", user)],
  ] as const)("does not give the kept record the message ids of a duplicate the user %s after the pass's last check", async (what, change) => {
    const { start, user } = await test();
    const [a, b] = [start("a", held.proxy.url), start("b", suite.chroma.server.url)];
    const { kept, duplicate } = await addTwoSayings(a, user);

    const check = held.proxy.hold(passCheck());
    const forgetting = a.call<{ removedIds: string[]; merged: number }>("forget", user);
    await check.answered; // A's check read the group as it planned it
    await change(b, duplicate, user);
    check.release();
    const report = await forgetting;

    expect(report).toMatchObject({ merged: 0, removedIds: [] });
    for (const peer of [a, b]) {
      expect((await peer.call<Stored | null>("get", kept, user))?.source.messageIds).toEqual(["m-1"]);
      const left = await peer.call<Stored | null>("get", duplicate, user);
      expect(left === null ? null : [left.content, left.source.messageIds]).toEqual(what === "deleted" ? null : ["I take the 8:10 bus to work now", ["m-2"]]);
    }
  });

  // Two passes at once, over groups that overlap: A's, narrowed to thread t1, merges the duplicate
  // into the kept record; B's, over the whole user, merges both into a more important record of
  // thread t2. A's lands first. B's merge was conditioned on its kept record alone: it took the
  // message ids of a record A had merged (and kept) and of one A had deleted, and two records then
  // named the same messages.
  it("two passes at once, one merging a record the other kept: every message id named once", async () => {
    const { start, user } = await test();
    const [a, b] = [start("a", held.proxy.url), start("b", held.proxy.url)];
    const say = (id: string, content: string, threadId: string, importance: number): Promise<string> =>
      a.call<{ results: Stored[] }>("add", [{ role: "user", id, content }], { ...user, threadId, importance }).then((r) => r.results[0]!.id);
    const top = await say("x-1", "I take the 7:40 train to work every morning!", "t2", 0.9);
    const kept = await say("m-1", "I take the 7:40 train to work every morning.", "t1", 0.7);
    const duplicate = await say("m-2", DUPLICATE_TEXT, "t1", 0.5);
    const group = (ids: string[]) => {
      let reads = 0;
      const wanted = [...ids].sort().join();
      return (request: SeenRequest): boolean => request.path.endsWith("/get") && [...requestIds(request)].sort().join() === wanted && (reads += 1) === 2;
    };

    const checkA = held.proxy.hold(group([kept, duplicate]));
    const forgettingA = a.call<{ removedIds: string[] }>("forget", { ...user, threadId: "t1" });
    await checkA.answered;
    const checkB = held.proxy.hold(group([top, kept, duplicate]));
    const forgettingB = b.call<{ removedIds: string[] }>("forget", user);
    await checkB.answered; // both passes planned on the same three records
    checkA.release();
    expect((await forgettingA).removedIds).toEqual([duplicate]);
    checkB.release();
    expect((await forgettingB).removedIds).toEqual([]);

    for (const peer of [a, b]) {
      expect(await messageIdsOf(peer, user)).toEqual(["m-1", "m-2", "x-1"]);
      expect((await peer.call<Stored | null>("get", kept, user))?.source.messageIds?.sort()).toEqual(["m-1", "m-2"]);
      expect((await peer.call<Stored | null>("get", top, user))?.source.messageIds).toEqual(["x-1"]);
    }
  });
});
