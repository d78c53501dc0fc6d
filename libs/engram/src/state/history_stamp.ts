/**
 * What every backend of the state does alike with history entries: gives new ones their ids and
 * times, and groups read ones by memory.
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

/** Entries by memory id, each memory's in the order read (a backend reads them ordered by time). */
export function groupByMemory(entries: readonly HistoryEntry[]): Map<string, HistoryEntry[]> {
  const byMemory = new Map<string, HistoryEntry[]>();
  for (const entry of entries) {
    const list = byMemory.get(entry.memoryId);
    if (list) list.push(entry);
    else byMemory.set(entry.memoryId, [entry]);
  }
  return byMemory;
}
