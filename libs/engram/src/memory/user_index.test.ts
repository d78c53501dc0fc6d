import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { MemoryRecord } from "../core/types.js";
import type { StoredRecord } from "../store/types.js";
import { UserIndex } from "./user_index.js";

function turn(id: string, threadId: string | undefined, createdAt: number, content = `turn ${id}`): MemoryRecord {
  return {
    id,
    scope: threadId ? { userId: "u", threadId } : { userId: "u" },
    kind: "episode",
    content,
    importance: 0.5,
    createdAt,
    updatedAt: createdAt,
    lastAccessedAt: createdAt,
    source: {},
    metadata: {},
  };
}

/** Records with a stand-in vector: these tests are about thread order, not similarity. */
function stored(...records: MemoryRecord[]): StoredRecord[] {
  return records.map((record) => ({ record, embedding: [1, 0] }));
}

describe("UserIndex", () => {
  it("finds the turns just before and after a memory in its own thread, in time order", () => {
    const index = new UserIndex();
    index.upsert(stored(turn("c", "t1", 30), turn("a", "t1", 10), turn("x", "t2", 20), turn("b", "t1", 20), turn("n", undefined, 15)));
    expect(index.neighbours("b")).toEqual(["a", "c"]);
    expect(index.neighbours("a")).toEqual(["b"]);
    expect(index.neighbours("x")).toEqual([]);
    expect(index.neighbours("n")).toEqual([]);
    index.remove(["b"]);
    expect(index.neighbours("a")).toEqual(["c"]);
    // An update that moves a memory to another thread leaves the old thread.
    index.upsert(stored(turn("c", "t2", 25)));
    expect(index.neighbours("a")).toEqual([]);
    expect(index.neighbours("x")).toEqual(["c"]);
    expect(index.size).toBe(4);
    expect(index.lexical.query("turn c", 5)[0]?.id).toBe("c");
  });

  it("neighboursWith gives each memory the neighbours it will have once the queued writes land", () => {
    const record = fc.record({
      id: fc.constantFrom("a", "b", "c", "d", "e", "f", "g"),
      thread: fc.constantFrom("t1", "t2", undefined),
      at: fc.integer({ min: 0, max: 6 }),
    });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 7 }), fc.array(record, { maxLength: 4 }), fc.uniqueArray(fc.constantFrom("a", "b", "c", "d", "e", "f", "g"), { maxLength: 3 }), (storedTurns, queuedTurns, removedIds) => {
        const now = new UserIndex();
        now.upsert(stored(...storedTurns.map((t) => turn(t.id, t.thread, t.at))));
        // The latest queued write of an id wins, as the overlay reads the outbox; a removal of an id queued after it.
        const queued = new Map(queuedTurns.map((t) => [t.id, turn(t.id, t.thread, t.at)]));
        const removed = new Set(removedIds.filter((id) => !queued.has(id)));
        const drained = new UserIndex();
        drained.upsert(stored(...storedTurns.map((t) => turn(t.id, t.thread, t.at))));
        drained.upsert(stored(...queued.values()));
        drained.remove([...removed]);
        const before = now.neighboursWith([...queued.values()], removed);
        for (const id of ["a", "b", "c", "d", "e", "f", "g"]) {
          expect(before(id)).toEqual(drained.record(id) ? drained.neighbours(id) : []);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("forgets a thread once its last memory leaves (a user kept warm does not keep every past conversation)", () => {
    const index = new UserIndex();
    const threadsKept = (): number => (index as unknown as { threads: Map<string, unknown> }).threads.size;
    for (let i = 0; i < 50; i += 1) index.upsert(stored(turn(`a${i}`, `thread-${i}`, i), turn(`b${i}`, `thread-${i}`, i + 0.5)));
    expect(threadsKept()).toBe(50);
    index.remove(Array.from({ length: 50 }, (_, i) => `a${i}`));
    expect(threadsKept()).toBe(50);
    expect(index.neighbours("b7")).toEqual([]);
    index.remove(Array.from({ length: 50 }, (_, i) => `b${i}`));
    expect(threadsKept()).toBe(0);
    // A memory moved to another thread leaves its old thread behind it.
    index.upsert(stored(turn("c", "old", 1)));
    index.upsert(stored(turn("c", "new", 1), turn("d", "new", 2)));
    expect(threadsKept()).toBe(1);
    expect(index.neighbours("c")).toEqual(["d"]);
  });
});
