import { describe, expect, it } from "@jest/globals";
import { InMemoryChatMessageHistory } from "@langchain/core/chat_history";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { testMemories } from "../../tests/memories.js";
import { EngramChatMessageHistory } from "./history.js";

/*
 * Without a chat history of the app's, EngramChatMessageHistory keeps the thread's messages in
 * process (one in-memory history per memory, user and thread). That history is Engram's, not the
 * app's: `Memory.deleteAll` of the user must reach it, or the next run of the thread, in this
 * process, shows the model everything the user had erased.
 */
const memories = testMemories();

const texts = (messages: ReadonlyArray<{ text: string }>): string => messages.map((m) => m.text).join("\n");

describe("the in-memory default history after its user's erasure (real Chroma)", () => {
  it("is emptied: the next run shows none of the erased conversation, and the thread files again", async () => {
    const memory = await memories.open("erased-default", { prefix: "erasedchat", writes: "sync" });
    const options = { memory, userId: "ada", threadId: "s1", importanceThreshold: 0, onWarning: () => {} };
    const before = new EngramChatMessageHistory(options);
    await before.addMessages([new HumanMessage("My passport number is X9981234."), new AIMessage("Noted.")]);
    await before.flush();
    expect(texts(await before.getMessages())).toContain("X9981234");

    await memory.deleteAll({ userId: "ada" });

    // RunnableWithMessageHistory builds a new history per run: it finds the thread's default one.
    const after = new EngramChatMessageHistory(options);
    expect(texts(await after.getMessages())).not.toContain("X9981234");
    await after.addMessages([new HumanMessage("I live in Ghent."), new AIMessage("Nice city.")]);
    await after.flush();
    expect(texts(await after.getMessages())).toBe("I live in Ghent.\nNice city.");
    const stored = (await memory.getAll({ userId: "ada", limit: 100 })).map((record) => record.content);
    expect(stored).toEqual(expect.arrayContaining(["I live in Ghent.", "Nice city."]));
    expect(stored.join("\n")).not.toContain("X9981234");
  }, 600_000);

  it("an app's own chat history is left as it is (Engram never rewrites it) and files nothing of before", async () => {
    const memory = await memories.open("erased-own", { prefix: "erasedown", writes: "sync" });
    const history = new InMemoryChatMessageHistory();
    const options = { memory, userId: "ada", threadId: "s1", history, importanceThreshold: 0, onWarning: () => {} };
    await new EngramChatMessageHistory(options).addMessages([new HumanMessage("My passport number is X9981234."), new AIMessage("Noted.")]);
    await new EngramChatMessageHistory(options).flush();
    await memory.deleteAll({ userId: "ada" });
    const after = new EngramChatMessageHistory(options);
    expect(texts(await after.getMessages())).toContain("X9981234");
    await after.addMessages([new HumanMessage("I live in Ghent."), new AIMessage("Nice city.")]);
    await after.flush();
    expect((await memory.getAll({ userId: "ada", limit: 100 })).map((record) => record.content).join("\n")).not.toContain("X9981234");
  }, 600_000);
});
