import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { testMemories } from "../tests/memories.js";
import type { Memory } from "./memory.js";

/*
 * A memory past its `expiresAt` is hidden from every read, and forgetting's TTL rule deletes it.
 * Said again (the same text and metadata in the same scope: the same id), it was taken for a replay of the
 * expired record: nothing was written, `add` returned the record with its new expiry as if stored,
 * reads still hid it, and the next forgetting pass deleted it. Said again, it is stored anew, and
 * its stored row keeps none of the old record's keys (Chroma merges an upsert's metadata into the
 * row's; the expiry is one): read back by a new process on the folder, not only from this one's
 * queue or index. Said with other metadata, it is another memory (another id).
 */

const DAY = 86_400_000;
const T0 = 20_000 * DAY;
const NOTICE = "Platform 4 is closed today";
const memories = testMemories();

describe.each(["background", "sync"] as const)("an expired memory said again, writes %s", (writes) => {
  const open = (name: string, clock: { now: number }): Memory => memories.open(name, { clock: () => clock.now, writes });

  it("is stored with the new expiry, read back from the store, and not forgotten", async () => {
    const clock = { now: T0 };
    const name = `readd-expiry-${writes}`;
    const first = open(name, clock);
    const userId = "alice";
    const [old] = (await first.add(NOTICE, { userId, expiresAt: T0 + DAY })).results;
    await first.flush();
    clock.now = T0 + 2 * DAY;
    expect(await first.get(old!.id, { userId })).toBeNull();

    const expiresAt = T0 + 5 * DAY;
    const [again] = (await first.add(NOTICE, { userId, expiresAt })).results;
    expect([again!.id, again!.expiresAt]).toEqual([old!.id, expiresAt]);
    await first.flush();
    expect(await first.get(old!.id, { userId })).toMatchObject({ content: NOTICE, expiresAt });
    const report = await first.forget({ userId });
    expect(report.removedIds).toEqual([]);
    await first.close();

    const later = open(name, clock);
    expect(await later.get(old!.id, { userId })).toMatchObject({ content: NOTICE, expiresAt, createdAt: T0 + 2 * DAY });
    expect((await later.search("platform closed", { userId, limit: 5 })).map((hit) => hit.id)).toContain(old!.id);
    expect((await later.history(old!.id, { userId })).map((entry) => entry.event)).toEqual(["ADD", "ADD"]);
  });

  it("said again without an expiry, keeps none; said with other metadata, is another memory", async () => {
    const clock = { now: T0 };
    const name = `readd-keys-${writes}`;
    const first = open(name, clock);
    const userId = "bob";
    const [old] = (await first.add(NOTICE, { userId, expiresAt: T0 + DAY, metadata: { line: "north" } })).results;
    await first.flush();
    clock.now = T0 + 2 * DAY;
    const [again] = (await first.add(NOTICE, { userId, metadata: { line: "north" } })).results;
    expect(again!.id).toBe(old!.id);
    // Other metadata make another memory (memory/fit.ts itemId), which the same words do not merge
    // with (consolidation/forget.ts).
    const [other] = (await first.add(NOTICE, { userId, metadata: { station: "central" } })).results;
    expect(other!.id).not.toBe(old!.id);
    await first.flush();
    await first.close();

    const later = open(name, clock);
    const stored = (await later.get(old!.id, { userId })) as MemoryRecord | null;
    expect(stored).not.toBeNull();
    expect(stored!.expiresAt).toBeUndefined();
    // Engram's own keys (the dates a text names) aside, the new record's metadata only.
    expect(stored!.metadata).toMatchObject({ line: "north" });
    expect(stored!.metadata).not.toHaveProperty("station");
    const central = (await later.get(other!.id, { userId })) as MemoryRecord | null;
    expect(central!.metadata).toMatchObject({ station: "central" });
    expect(central!.metadata).not.toHaveProperty("line");
    clock.now = T0 + 30 * DAY;
    expect((await later.forget({ userId })).removedIds).toEqual([]);
    expect((await later.getAll({ userId })).map((record) => record.id).sort()).toEqual([old!.id, other!.id].sort());
  });
});
