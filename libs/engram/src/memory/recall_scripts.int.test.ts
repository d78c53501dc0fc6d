import { describe, expect, it } from "@jest/globals";
import { StaticEmbeddings } from "../embeddings/static.js";
import { testMemories } from "../tests/memories.js";

/*
 * The lexical part of recall (BM25) read ASCII letters only: a memory in Russian, Greek or Chinese
 * had no lexical match at all, and a name with an accent ("Zoë") matched nothing typed without it.
 * With the static model the lexical part weighs four times the meaning.
 */
const memories = testMemories();

describe("search matches words of any script, and names without their accents", () => {
  it("gives the memory that holds the query's word its lexical match", async () => {
    const m = memories.open("scripts", { embeddings: new StaticEmbeddings() });
    const userId = "mila";
    for (const text of ["Zoë's birthday is on 12 May", "Моя сестра живёт в Москве", "我喜欢喝绿茶", "I walked the dog in the park", "We had pizza on Friday"]) {
      await m.add(text, { userId });
    }
    await m.flush();
    for (const [query, expected] of [
      ["Zoe", "Zoë's birthday is on 12 May"],
      ["Москве", "Моя сестра живёт в Москве"],
      ["绿茶", "我喜欢喝绿茶"],
    ] as const) {
      const [best] = await m.search(query, { userId, limit: 3 });
      expect({ query, content: best?.content, lexical: best?.scoreParts.lexical }).toEqual({ query, content: expected, lexical: 1 });
    }
  });
});
