import type { MemoryRecord } from "../core/types.js";

/** A user's episode in thread t1, written at `at` (ms), for tests that write records to a store directly. */
export function episodeRecord(userId: string, id: string, content: string, at: number, metadata: MemoryRecord["metadata"] = {}): MemoryRecord {
  return {
    id,
    scope: { userId, threadId: "t1" },
    kind: "episode",
    content,
    importance: 0.5,
    createdAt: at,
    updatedAt: at,
    lastAccessedAt: at,
    role: "user",
    source: { threadId: "t1" },
    metadata,
  };
}
