import { describe, expect, it, jest } from "@jest/globals";
import { oneState } from "../tests/forget_peers.js";
import { raceSuite } from "../tests/peers.js";
import { replyHoldProxySuite, readOfOne } from "../tests/reply_hold_proxy.js";

/*
 * A forgetting pass's writes apply only while their records are stored as the pass read them
 * (writer.ts `ifStoredAs`), checked by the drain. The check knew a record by its text and the time
 * of its last change, and a change made in the same millisecond as the one before it (two
 * processes' calls in one ms, or any Memory with a fixed `clock`) left both as they were: the cap
 * evicted a record whose importance another process had just raised, TTL deleted one whose expiry
 * had just been extended. Two real processes on one state; both run at one fixed time.
 */

jest.setTimeout(300_000); // a hang, not a slow machine

interface Stored {
  id: string;
  importance: number;
  expiresAt?: number;
}

const DAY = 86_400_000;
const T0 = 20_000 * DAY;
const suite = raceSuite();
const held = replyHoldProxySuite(() => suite.chroma.server.url);

describe.each(["sqlite", "postgres"] as const)("a forgetting pass and a change in the same millisecond, state in %s", (kind) => {
  let n = 0;

  it.each([
    ["the cap evicts a record whose importance", { importance: 1 }, { maxRecords: 1 }, { importance: 0.1 }],
    ["TTL deletes a record whose expiry", { expiresAt: T0 + 30 * DAY }, {}, { expiresAt: T0 }],
  ] as const)("never: %s another process changed after the pass's last check", async (_what, change, rules, added) => {
    const { start, user } = await oneState(suite, kind, `same-ms-${(n += 1)}`);
    // Both at T0: the change is made in the millisecond of the add.
    const a = start("a", held.proxy.url, { frozenAt: T0 });
    const b = start("b", suite.chroma.server.url, { frozenAt: T0 });
    const [target] = (await a.call<{ results: Stored[] }>("add", "My locker code is 4417", { ...user, ...added })).results;
    await a.call("add", "I am allergic to penicillin", { ...user, importance: 0.9 });

    const check = held.proxy.hold(readOfOne(target!.id));
    const forgetting = a.call<{ removedIds: string[] }>("forget", { ...user, ...rules });
    await check.answered; // the pass read the record as it planned it
    await b.call("update", target!.id, change, user);
    check.release();
    const report = await forgetting;

    expect(report.removedIds).toEqual([]);
    expect(await a.call<Stored | null>("get", target!.id, user)).toMatchObject(change);
  });
});
