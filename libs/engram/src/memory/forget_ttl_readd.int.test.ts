import { describe, expect, it, jest } from "@jest/globals";
import { oneState } from "../tests/forget_peers.js";
import { raceSuite } from "../tests/peers.js";
import { replyHoldProxySuite, readOfOne } from "../tests/reply_hold_proxy.js";

/*
 * A memory past its `expiresAt` is hidden from every read, and forgetting's TTL rule deletes it.
 * Said again (the same text in the same scope: the same id), it was taken for a replay of the
 * expired record: nothing was written, `add` returned the record with its new expiry as if stored,
 * reads still hid it, and a forgetting pass (here another process's, whose last check read the
 * expired copy just before) deleted it. Said again, it must be stored again, and a pass that read
 * the expired copy must leave it. Real processes on one state, all "two days later" but the first.
 */

jest.setTimeout(300_000); // a hang, not a slow machine

interface Stored {
  id: string;
  content: string;
  expiresAt?: number;
}

const DAY = 86_400_000;
const NOTICE = "Platform 4 is closed today";
const suite = raceSuite();
const held = replyHoldProxySuite(() => suite.chroma.server.url);

describe.each(["sqlite", "postgres"] as const)("an expired memory said again while another process forgets, state in %s", (kind) => {
  it("is stored again, and the pass that read the expired copy leaves it", async () => {
    const { start, user } = await oneState(suite, kind, "ttl-readd");
    const early = start("early", suite.chroma.server.url);
    const [notice] = (await early.call<{ results: Stored[] }>("add", NOTICE, { ...user, expiresAt: Date.now() + DAY })).results;
    await early.call("add", "I train on Mondays", user);
    const a = start("a", held.proxy.url, { clockShiftMs: 2 * DAY });
    const b = start("b", suite.chroma.server.url, { clockShiftMs: 2 * DAY });
    expect(await b.call("get", notice!.id, user)).toBeNull(); // expired: hidden

    const check = held.proxy.hold(readOfOne(notice!.id));
    const forgetting = a.call<{ removedIds: string[] }>("forget", user);
    await check.answered; // the pass's last check read the expired copy
    const expiresAt = Date.now() + 3 * DAY;
    const again = await b.call<{ results: Stored[]; warnings: string[] }>("add", NOTICE, { ...user, expiresAt });
    check.release();
    const report = await forgetting;

    expect(again.results.map((record) => [record.id, record.expiresAt])).toEqual([[notice!.id, expiresAt]]);
    expect(report.removedIds).toEqual([]);
    for (const peer of [a, b]) {
      expect(await peer.call<Stored | null>("get", notice!.id, user)).toMatchObject({ content: NOTICE, expiresAt });
      expect((await peer.call<Stored[]>("search", "platform closed", { ...user, limit: 5 })).map((hit) => hit.id)).toContain(notice!.id);
    }
  });
});
