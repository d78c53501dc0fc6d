import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { InMemoryChatMessageHistory } from "@langchain/core/chat_history";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { Memory } from "../../memory/memory.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { EngramChatMessageHistory } from "./history.js";

// A history counted the exchanges it had filed in its process and filed only later ones. When
// another worker cleared the thread, this worker's count stayed: the new conversation's first
// exchanges (as many as the cleared one had) were taken for filed and never became episodes.
const memories = testMemories();

describe("a thread cleared by another worker (real Chroma)", () => {
  it("files the new conversation's exchanges from its first one", async () => {
    const dataDir = join(memories.chroma.dir, "clear-elsewhere");
    const open = () => memories.track(new Memory({ dataDir, chroma: { url: memories.chroma.server.url }, embeddings: new HashEmbeddings(), writes: "sync" }));
    const [a, b] = [open(), open()];
    const shared = new InMemoryChatMessageHistory();
    const options = { userId: "ada", threadId: "s1", history: shared, importanceThreshold: 0, onWarning: () => {} };
    const workerA = new EngramChatMessageHistory({ memory: a, ...options });
    for (const [question, answer] of [["I play the oboe.", "Lovely."], ["I live in Ghent.", "Nice city."], ["I have two sons.", "Noted."]]) {
      await workerA.addMessages([new HumanMessage(question!), new AIMessage(answer!)]);
      await workerA.flush();
    }
    await new EngramChatMessageHistory({ memory: b, ...options }).clear();

    await workerA.addMessages([new HumanMessage("My new job starts in March."), new AIMessage("Congratulations!")]);
    await workerA.addMessages([new HumanMessage("It is at a bakery."), new AIMessage("Sounds tasty.")]);
    await workerA.flush();
    const contents = (await a.getAll({ userId: "ada", kind: "episode", limit: 100 })).map((record) => record.content);
    expect(contents).toEqual(expect.arrayContaining(["My new job starts in March.", "Congratulations!", "It is at a bakery.", "Sounds tasty."]));
  }, 600_000);
});
