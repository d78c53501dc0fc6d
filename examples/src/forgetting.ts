/**
 * Forgetting on demand: merge near-duplicates, expire, cap. Quoted by docs/forgetting.md and run by
 * forgetting.int.test.ts, so the snippet in the docs cannot rot.
 */
import { Memory, type ForgetReport, type HistoryEntry, type MemoryOptions, type MemoryRecord } from "engram";

const DAY = 24 * 60 * 60 * 1000;

export interface ForgettingResult {
  report: ForgetReport;
  left: MemoryRecord[];
  /** Why each removed memory went, from its history. */
  removals: Array<Pick<HistoryEntry, "memoryId" | "oldContent" | "reason">>;
}

export async function forgetting(options: MemoryOptions = {}): Promise<ForgettingResult> {
  let now = Date.now();
  // The clock option stands in for time passing; leave it out in an app.
  const m = new Memory({ ...options, clock: () => now });
  try {
    const alice = { userId: "alice" };
    // The same thing said in two threads: one memory, with both messages as its sources.
    await m.add([{ role: "user", id: "msg-1", content: "I take the 7:40 train to work every morning." }], { ...alice, threadId: "monday", importance: 0.7 });
    await m.add([{ role: "user", id: "msg-2", content: "I take the 7:40 train to work every morning" }], { ...alice, threadId: "tuesday" });
    // Valid for a day only.
    await m.add("Platform 4 is closed today", { ...alice, expiresAt: now + DAY });
    // Small talk, worth little, and soon old.
    await m.add("We talked about the weather", { ...alice, importance: 0.1 });
    await m.add("I'm allergic to penicillin", { ...alice, importance: 1 });

    now += 7 * DAY; // a week later
    const report = await m.forget({ ...alice, maxRecords: 2 });
    console.log(report); // { merged: 1, evicted: 1, expired: 1, removedIds: [...], pending: true }

    const removals = [];
    for (const id of report.removedIds) {
      const last = (await m.history(id, alice)).at(-1)!; // DELETE, with reason "dedupe" | "ttl" | "cap"
      removals.push({ memoryId: last.memoryId, oldContent: last.oldContent, reason: last.reason });
    }
    return { report, left: await m.getAll(alice), removals };
  } finally {
    await m.close();
  }
}
