import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";

/*
 * An add whose id is live is a replay: nothing is written. When the live memory holds another text
 * (updated since, or an explicit `id` given to a new text), the caller's text is not stored, so
 * the result must say so rather than look like a stored write.
 */
const memories = testMemories();

describe("add and addMany tell a replay that keeps another text", () => {
  it.each(["background", "sync"] as const)("warns when the live memory of that id holds other content (%s writes)", async (writes) => {
    const m = memories.open(`replay-${writes}`, { writes });
    const user = { userId: "alice" };
    const first = await m.add("I live in Paris", user);
    const id = first.results[0]!.id;
    expect(first.warnings).toEqual([]);
    await m.update(id, "I live in Berlin", user);

    const again = await m.add("I live in Paris", user);
    expect(again.results.map((record) => record.id)).toEqual([id]);
    expect(again.warnings).toEqual([expect.stringContaining(id)]);

    await m.add("Alice's cat is called Tom", { ...user, id: "cat" });
    const other = await m.addMany([{ content: "Alice's cat is called Felix", id: "cat" }], user);
    expect(other.warnings).toEqual([expect.stringContaining("cat")]);

    // Within one addMany, a later item with an earlier item's id and another text.
    const batch = await m.addMany([{ content: "Alice plays chess", id: "hobby" }, { content: "Alice plays go", id: "hobby" }, { content: "Alice plays chess", id: "hobby" }], user);
    expect(batch.results.map((record) => record.content)).toEqual(["Alice plays chess"]);
    expect(batch.warnings).toEqual([expect.stringMatching(/^items\[1\]: .*hobby/)]);

    // A true replay (same text) stays quiet.
    expect((await m.add("Alice's cat is called Tom", { ...user, id: "cat" })).warnings).toEqual([]);
    await m.flush();
    expect((await m.get(id, user))?.content).toBe("I live in Berlin");
    expect((await m.get("cat", user))?.content).toBe("Alice's cat is called Tom");
  });

  it("the same words with other metadata are another memory; with the same metadata, a replay", async () => {
    // Before, the second add was taken for a replay of the first: it returned { project: "gemini" }
    // as if stored, stored nothing, and a search filtered on gemini found nothing.
    const m = memories.open("replay-metadata", { writes: "sync" });
    const user = { userId: "dana" };
    const apollo = await m.add("The deadline is Friday", { ...user, metadata: { project: "apollo" } });
    const gemini = await m.add("The deadline is Friday", { ...user, metadata: { project: "gemini" } });
    expect(gemini.results[0]!.id).not.toBe(apollo.results[0]!.id);
    const replay = await m.add("The deadline is Friday", { ...user, metadata: { project: "gemini" } });
    expect(replay.results[0]!.id).toBe(gemini.results[0]!.id);
    const stored = await m.getAll(user);
    expect(stored.map((record) => record.metadata.project).sort()).toEqual(["apollo", "gemini"]);
    const [found] = await m.search("When is the deadline?", { ...user, filters: { metadata: { project: "gemini" } } });
    expect(found?.id).toBe(gemini.results[0]!.id);
    // Without metadata, the id is the one earlier versions gave (a replay of an old call finds it):
    // the id this add had before metadata counted.
    const plain = await m.add("The deadline is Friday", user);
    expect(plain.results[0]!.id).toBe("63be3d1f-815c-541a-916f-4b7b6e50fb2a");
  });
});
