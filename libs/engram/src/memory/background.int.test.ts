import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";

const memories = testMemories();

describe('Memory with writes: "background"', () => {
  it("returns before the store has the write, yet this process reads its own writes at once", async () => {
    const m = memories.open("bg", { writes: "background" });
    const added = await m.add("Alice keeps bees on her roof in Lyon", { userId: "alice" });
    expect(added.pending).toBe(true);
    const id = added.results[0]!.id;
    // No flush: search, get and history each see the write.
    const [top] = await m.search("Who keeps bees?", { userId: "alice" });
    expect(top?.id).toBe(id);
    expect((await m.get(id, { userId: "alice" }))?.content).toBe("Alice keeps bees on her roof in Lyon");
    await m.update(id, "Alice keeps bees on her roof in Lyon, three hives", { userId: "alice" });
    expect((await m.history(id, { userId: "alice" })).map((entry) => entry.event)).toEqual(["ADD", "UPDATE"]);
    await m.close();

    // close() let the drain land: a second instance on another folder, reading the store only, sees it.
    const other = memories.open("other");
    const all = await other.getAll({ userId: "alice" });
    expect(all.map((record) => record.content)).toEqual(["Alice keeps bees on her roof in Lyon, three hives"]);
    await other.close();
  });

  it("deleteAll right after a burst of adds leaves nothing of the user and keeps the others", async () => {
    const m = memories.open("burst", { writes: "background" });
    await m.add("Bob plays the cello", { userId: "bob" });
    const adds = Array.from({ length: 8 }, (_, i) => m.add(`Carol note number ${i}`, { userId: "carol" }));
    await Promise.all(adds);
    const removed = await m.deleteAll({ userId: "carol" });
    expect(removed.deleted + removed.pending).toBeGreaterThanOrEqual(8);
    await m.flush();
    expect(await m.getAll({ userId: "carol" })).toEqual([]);
    expect(await m.search("note number", { userId: "carol" })).toEqual([]);
    expect((await m.getAll({ userId: "bob" })).map((record) => record.content)).toEqual(["Bob plays the cello"]);
    await m.close();
  });
});
