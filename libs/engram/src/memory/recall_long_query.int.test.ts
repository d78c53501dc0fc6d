import { describe, expect, it } from "@jest/globals";
import { StaticEmbeddings } from "../embeddings/static.js";
import { EngramRetriever } from "../adapters/retriever/retriever.js";
import { testMemories } from "../tests/memories.js";

/*
 * A query is not stored, yet search refused one longer than `maxContentChars` (8,000) with
 * CONTENT_TOO_LARGE, as `add` refuses a memory that long: a retriever given a user's message with
 * a pasted document failed the whole chain. Search now reads the query's first maxContentChars
 * characters, as the agent doors read the first `maxQueryChars` of the latest message.
 */
const memories = testMemories();

describe("search with a query longer than maxContentChars", () => {
  it("answers from the query's beginning instead of refusing it", async () => {
    const m = memories.open("long-query", { embeddings: new StaticEmbeddings(), maxContentChars: 200 });
    const userId = "omar";
    await m.add("My cat is called Miso", { userId });
    await m.add("I work as a nurse in Bergen", { userId });
    await m.flush();
    // 100 KB: the question, then a pasted log.
    const query = `What is my cat called? ${"log line 42: all systems nominal\n".repeat(3_100)}`;
    expect(query.length).toBeGreaterThan(100_000);
    const [best] = await m.search(query, { userId, limit: 1 });
    expect(best?.content).toBe("My cat is called Miso");
    const documents = await new EngramRetriever({ memory: m, userId, k: 1 }).invoke(query);
    expect(documents.map((document) => document.pageContent)).toEqual(["My cat is called Miso"]);
    // An emoji cut at the limit is not left half.
    const [hit] = await m.search(`${"cat ".repeat(49)}Mis🐈 and more`, { userId, limit: 1 });
    expect(hit?.content).toBe("My cat is called Miso");
  });
});
