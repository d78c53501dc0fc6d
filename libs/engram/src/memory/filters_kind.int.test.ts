import { describe, expect, it } from "@jest/globals";
import { EngramRetriever } from "../adapters/retriever/retriever.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { testMemories } from "../tests/memories.js";
import { codeOf, codeOfSync } from "../tests/runs.js";

// `filters.kind: []` (a list built from a user's selection, left empty) matched no memory and
// returned [] without a word, where the memory tools refuse an empty `archivalKinds`.
const memories = testMemories();

describe("filters.kind as an empty list", () => {
  it("is refused by search and by a retriever when it is built; a list of kinds still narrows", async () => {
    const m = memories.open("kinds", { writes: "sync", embeddings: new HashEmbeddings() });
    await m.add("Lia lives in Porto.", { userId: "lia", kind: "fact" });
    expect(await codeOf(m.search("Where does Lia live?", { userId: "lia", filters: { kind: [] } }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => new EngramRetriever({ memory: m, userId: "lia", filters: { kind: [] } }))).toBe("INVALID_OPTIONS");
    expect((await m.search("Where does Lia live?", { userId: "lia", filters: { kind: ["fact", "episode"] } })).map((hit) => hit.content)).toEqual(["Lia lives in Porto."]);
  });
});
