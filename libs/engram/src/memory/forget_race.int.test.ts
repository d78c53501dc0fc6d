import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";
import { replyHoldProxySuite, type SeenRequest } from "../tests/reply_hold_proxy.js";
import type { Memory } from "./memory.js";

// A forgetting pass plans from a snapshot of the user's records (read in batches, then planned:
// seconds for a large user, and scheduleForget runs it beside the user's turns). A record the
// user changes after that read must not be undone or removed on the strength of the old copy.
const DAY = 86_400_000;
const T0 = 20_000 * DAY;
const memories = testMemories();
const held = replyHoldProxySuite(() => memories.chroma.server.url);
let suite = 0;

function memoryAt(clock: { now: number }): Memory {
  const name = `fr${(suite += 1)}`;
  return memories.open(name, { prefix: name, chroma: { url: held.proxy.url }, clock: () => clock.now, writes: "sync" });
}

/** Forget's read of the records with their vectors: a store get of several ids. */
const forgetRead = (request: SeenRequest): boolean => request.path.endsWith("/get") && (JSON.parse(request.body || "{}") as { ids?: string[] }).ids?.length! >= 2;

/** Runs forget, and `meanwhile` after its read was answered and before it may act on it. */
async function forgetAround(m: Memory, options: Parameters<Memory["forget"]>[0], meanwhile: () => Promise<void>) {
  const hold = held.proxy.hold(forgetRead);
  const forgetting = m.forget(options);
  await hold.answered;
  await meanwhile();
  hold.release();
  return forgetting;
}

describe("forget racing the user's changes", () => {
  it("dedupe does not write back the kept record's old text over an update made after forget read it", async () => {
    const clock = { now: T0 };
    const m = memoryAt(clock);
    const user = { userId: "ada" };
    const [kept] = (await m.add("I take the 7:40 train to work every morning.", { ...user, importance: 0.7 })).results;
    const [dup] = (await m.add("I take the 7:40 train to work every morning", user)).results;
    const report = await forgetAround(m, user, async () => {
      await m.update(kept!.id, "I cycle to work now; no more trains", user);
    });
    expect((await m.get(kept!.id, user))?.content).toBe("I cycle to work now; no more trains");
    // The two are no longer duplicates: nothing of the group is merged away.
    expect(report.removedIds).toEqual([]);
    expect((await m.get(dup!.id, user))?.content).toBe("I take the 7:40 train to work every morning");
  });

  it("the cap does not evict a record whose importance the user raised after forget read it", async () => {
    const clock = { now: T0 };
    const m = memoryAt(clock);
    const user = { userId: "bea" };
    const [low] = (await m.add("My locker code is 4417", { ...user, importance: 0.1 })).results;
    const [high] = (await m.add("I am allergic to penicillin", { ...user, importance: 0.9 })).results;
    const report = await forgetAround(m, { ...user, maxRecords: 1 }, async () => {
      await m.update(low!.id, { importance: 1 }, user);
    });
    expect(report.removedIds).not.toContain(low!.id);
    expect((await m.get(low!.id, user))?.importance).toBe(1);
    expect(await m.get(high!.id, user)).not.toBeNull();
  });

  it("TTL does not delete a record whose expiry the user extended after forget read it", async () => {
    const clock = { now: T0 };
    const m = memoryAt(clock);
    const user = { userId: "cal" };
    const [pass] = (await m.add("Gym day pass, valid until tomorrow", { ...user, expiresAt: T0 + DAY })).results;
    await m.add("I train on Mondays", user);
    clock.now = T0 + DAY - 1;
    const report = await forgetAround(m, { ...user }, async () => {
      await m.update(pass!.id, { expiresAt: T0 + 30 * DAY }, user);
      clock.now = T0 + 2 * DAY; // the read saw it live; even so, nothing may be decided on an old copy
    });
    expect(report.removedIds).toEqual([]);
    expect((await m.get(pass!.id, user))?.expiresAt).toBe(T0 + 30 * DAY);
  });

  // The check above reads the records again just before forget queues its writes; a change that
  // lands while that read is in flight (here: answered after the user's update landed, with the
  // copy from before it) is caught by the drain, which applies forget's writes only while their
  // records are stored as read (writer.ts `ifStoredAs`).
  it("dedupe does not act on a record the user updated while forget's last check read it", async () => {
    const clock = { now: T0 };
    const m = memoryAt(clock);
    const user = { userId: "eli" };
    const [kept] = (await m.add("I take the 7:40 train to work every morning.", { ...user, importance: 0.7 })).results;
    const [dup] = (await m.add("I take the 7:40 train to work every morning", user)).results;
    // The second read of both records is the check: hold its answer.
    let reads = 0;
    const secondRead = (request: SeenRequest): boolean => forgetRead(request) && (reads += 1) === 2;
    const hold = held.proxy.hold(secondRead);
    const forgetting = m.forget(user);
    await hold.answered;
    clock.now = T0 + 1;
    await m.update(kept!.id, "I cycle to work now; no more trains", user);
    hold.release();
    await forgetting;
    expect((await m.get(kept!.id, user))?.content).toBe("I cycle to work now; no more trains");
    // The merge that took the duplicate into the old text is dropped whole: the duplicate stays.
    expect((await m.get(dup!.id, user))?.content).toBe("I take the 7:40 train to work every morning");
    const events = (await m.history(kept!.id, user)).map((entry) => `${entry.event}:${entry.reason}`);
    expect(events).not.toContain("UPDATE:dedupe");
  });

  // The check above compares each record with its copy read again. Chroma does not keep metadata's
  // key order, so a plain JSON comparison saw untouched records as changed, about half the time
  // per record with two keys or more, and left their merges out at random.
  it("a record nobody changed is merged whatever order the store gives its metadata keys", async () => {
    const clock = { now: T0 };
    const m = memoryAt(clock);
    const user = { userId: "dov" };
    const metadata = { topic: "travel", source: "chat", mood: "calm", lang: "en" };
    for (let n = 0; n < 6; n += 1) {
      // The same words in two threads: two records, one vector.
      const text = `Trip number ${n} goes to the coast`;
      await m.add(text, { ...user, threadId: "a", metadata, importance: 0.8 });
      await m.add(text, { ...user, threadId: "b", metadata });
    }
    const report = await m.forget(user);
    expect(report.merged).toBe(6);
  });
});
