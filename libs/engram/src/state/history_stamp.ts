/**
 * Gives new history entries their ids and times, the same way in every backend of the state.
 */
import { randomUUID } from "node:crypto";
import type { HistoryEntry } from "../core/types.js";
import type { NewHistoryEntry } from "./types.js";

/** Gives entries their ids and times (the clock read once: a batch happens at one instant). */
export function stampHistory(entries: readonly NewHistoryEntry[], now: number): HistoryEntry[] {
  return entries.map((entry) => ({
    id: randomUUID(),
    memoryId: entry.memoryId,
    userId: entry.userId,
    event: entry.event,
    oldContent: entry.oldContent,
    newContent: entry.newContent,
    at: entry.at ?? now,
    reason: entry.reason,
  }));
}
