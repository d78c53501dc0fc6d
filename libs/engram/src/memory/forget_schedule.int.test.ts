import { describe, expect, it } from "@jest/globals";
import { StaticEmbeddings } from "../embeddings/static.js";
import { testMemories } from "../tests/memories.js";

/*
 * scheduleForget folds the requests made while a pass of the user waits into that pass, and the
 * pass ran with the options of the first: a request for another thread, or with other rules, was
 * dropped without a word, and its pass never ran.
 */
const memories = testMemories();

describe("scheduleForget with other options while a pass of the user waits", () => {
  it("runs a pass for each thread asked, and folds a repeat of one", async () => {
    const m = memories.open("schedule-threads", { embeddings: new StaticEmbeddings() });
    const userId = "pia";
    for (const threadId of ["t1", "t2"]) {
      for (const id of ["m1", "m2"]) await m.add([{ role: "user", id: `${threadId}-${id}`, content: "I take the 7:40 train to work" }], { userId, threadId });
    }
    await m.flush();
    expect(await m.getAll({ userId })).toHaveLength(4);
    m.scheduleForget({ userId, threadId: "t1" });
    m.scheduleForget({ userId, threadId: "t2" });
    m.scheduleForget({ userId, threadId: "t1" });
    await m.flush();
    const left = await m.getAll({ userId });
    expect(left.map((record) => record.scope.threadId).sort()).toEqual(["t1", "t2"]);
  });

  it("runs a pass with the rules asked, not only the first request's", async () => {
    const m = memories.open("schedule-rules", { embeddings: new StaticEmbeddings() });
    const userId = "quinn";
    for (const text of ["My cat is called Miso", "I work as a nurse in Bergen", "We talked about the weather"]) await m.add(text, { userId });
    await m.flush();
    m.scheduleForget({ userId });
    m.scheduleForget({ userId, maxRecords: 1 });
    await m.flush();
    expect(await m.getAll({ userId })).toHaveLength(1);
  });
});
