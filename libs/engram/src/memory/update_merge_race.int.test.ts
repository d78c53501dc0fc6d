import { describe, expect, it, jest } from "@jest/globals";
import { addTwoSayings, oneState } from "../tests/forget_peers.js";
import { raceSuite, type KillablePeer } from "../tests/peers.js";
import { replyHoldProxySuite, readOfOne } from "../tests/reply_hold_proxy.js";

/*
 * A user's `update` racing a forgetting pass's merge of the same memory, in two real processes
 * sharing one store and one state (the data folder's SQLite, or PostgreSQL for replicas). Process
 * A's update reads the memory (the read's answer held by a proxy, tests/reply_hold_proxy.ts), then
 * process B's forgetting pass merges a near-duplicate into it (the kept record takes both message
 * ids, the duplicate is deleted), then A's update goes on. A's write was the record as A read it
 * with the user's change: it wrote the kept record's old sources back over the merge's, and the
 * duplicate's message id was gone from every record. The user's change must land over the merged
 * record: the user's text, the merge's sources.
 */

jest.setTimeout(300_000); // a hang, not a slow machine

interface Stored {
  id: string;
  content: string;
  importance: number;
  source: { messageIds?: string[] };
}

interface Entry {
  event: string;
  reason: string;
  newContent: string | null;
}

const suite = raceSuite();
const held = replyHoldProxySuite(() => suite.chroma.server.url);

describe.each(["sqlite", "postgres"] as const)("an update racing another process's forgetting merge, state in %s", (kind) => {
  let n = 0;

  /** Two processes of a new test, A through the proxy and B straight to Chroma, on one state. */
  async function pair(aOptions: { writes?: "background" } = {}): Promise<{ a: KillablePeer; b: KillablePeer; user: { userId: string } }> {
    const { start, user } = await oneState(suite, kind, `merge-race-${(n += 1)}`);
    return { a: start("a", held.proxy.url, aOptions), b: start("b", suite.chroma.server.url), user };
  }

  it("keeps the merge's sources and the user's text when the merge landed after the update read the memory", async () => {
    const { a, b, user } = await pair();
    const { kept, duplicate } = await addTwoSayings(a, user);

    const read = held.proxy.hold(readOfOne(kept));
    const updating = a.call<Stored>("update", kept, "I take the 7:40 train to work every weekday morning.", user);
    await read.answered; // A has read the record as it was before the merge
    const report = await b.call<{ removedIds: string[] }>("forget", user);
    expect(report.removedIds).toEqual([duplicate]);
    read.release();
    const updated = await updating;

    expect(updated.content).toBe("I take the 7:40 train to work every weekday morning.");
    for (const peer of [a, b]) {
      const record = await peer.call<Stored | null>("get", kept, user);
      expect(record?.content).toBe("I take the 7:40 train to work every weekday morning.");
      expect([...(record?.source.messageIds ?? [])].sort()).toEqual(["m-1", "m-2"]);
      expect(await peer.call<Stored | null>("get", duplicate, user)).toBeNull();
      expect((await peer.call<Entry[]>("history", kept, user)).map((entry) => `${entry.event}:${entry.reason}`)).toEqual([
        "ADD:add",
        "UPDATE:dedupe",
        "UPDATE:update",
      ]);
    }
    expect([...(updated.source.messageIds ?? [])].sort()).toEqual(["m-1", "m-2"]);
  });

  // With background writes the update is queued when it returns, and a read in any process shows
  // it from the outbox until the drain applies it (pending_overlay.ts). It showed the record as
  // the update had read it: without the message ids the merge gave it, which the drain then kept.
  it("shows, while the update waits in the outbox, the record as the drain will leave it", async () => {
    const { a, b, user } = await pair({ writes: "background" });
    const { kept } = await addTwoSayings(b, user);

    const read = held.proxy.hold(readOfOne(kept));
    const updating = a.call<Stored>("update", kept, "I take the 7:40 train to work every weekday morning.", user);
    await read.answered;
    await b.call("forget", user);
    const drainCheck = held.proxy.hold(readOfOne(kept)); // the drain's read of the record the update lands on
    read.release();
    await updating; // queued
    await drainCheck.answered;

    const shown = await b.call<Stored | null>("get", kept, user);
    expect(shown?.content).toBe("I take the 7:40 train to work every weekday morning.");
    expect([...(shown?.source.messageIds ?? [])].sort()).toEqual(["m-1", "m-2"]);
    const listed = (await b.call<Stored[]>("getAll", user)).map((record) => [record.content, [...(record.source.messageIds ?? [])].sort()]);
    expect(listed).toEqual([["I take the 7:40 train to work every weekday morning.", ["m-1", "m-2"]]]);

    drainCheck.release();
    await a.call("flush");
    expect([...((await b.call<Stored | null>("get", kept, user))?.source.messageIds ?? [])].sort()).toEqual(["m-1", "m-2"]);
  });
});
