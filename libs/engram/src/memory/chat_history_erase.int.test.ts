import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { InMemoryChatMessageHistory } from "@langchain/core/chat_history";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { EngramChatMessageHistory } from "../adapters/chat_history/history.js";
import { RecordingChatModel } from "../tests/fake_chat.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Memory } from "./memory.js";

/*
 * A chat history files its thread in the background; the summary of the turns that left the window
 * takes a model call (seconds with a real model). `deleteAll` of the user while that call runs
 * must not be followed by the summary landing: it holds the erased conversation.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

let chroma: TestChroma;

beforeAll(async () => {
  chroma = await startTestChroma();
});
afterAll(async () => {
  await chroma?.stop();
});

describe("deleteAll during a chat history's filing", () => {
  it("the summary the filing was making when the user was erased does not land after the erasure", async () => {
    const memory = new Memory({ dataDir: join(chroma.dir, "chat-erase"), chroma: { url: chroma.server.url }, embeddings: new HashEmbeddings() });
    let summarizing!: () => void;
    const reached = new Promise<void>((resolve) => (summarizing = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const model = new RecordingChatModel({
      replies: [
        async () => {
          summarizing();
          await answered;
          return "Alice has diabetes and lives at 5 Elm St.";
        },
      ],
    });
    const history = new EngramChatMessageHistory({ memory, userId: "alice", threadId: "s1", window: { maxTurns: 1 }, summaryModel: model, importanceThreshold: 0 });
    // One append, so one filing: it reads both turns, files them, and summarizes the first, which
    // left the window. (A filing that starts after the erasure files nothing: the case below.)
    await history.addMessages([
      new HumanMessage({ id: "h1", content: "I have diabetes." }),
      new AIMessage({ id: "a1", content: "Noted." }),
      new HumanMessage({ id: "h2", content: "I live at 5 Elm St." }),
      new AIMessage({ id: "a2", content: "Noted too." }),
    ]);
    // The filing is summarizing the turn that left the window.
    await reached;
    expect(model.prompts[0]).toContain("I have diabetes.");
    const erasing = memory.deleteAll({ userId: "alice" });
    // Let the erasure run to its end, or to where it waits for the filing (shapes the order only).
    await Promise.race([erasing.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    answer();
    await erasing;
    await history.flush();
    expect(await memory.getAll({ userId: "alice" })).toEqual([]);
    await memory.close();
  });

  it("the conversation goes on after the erasure: its earlier turns, still in the app's history, are not filed again until clear()", async () => {
    const memory = new Memory({ dataDir: join(chroma.dir, "chat-erase-on"), chroma: { url: chroma.server.url }, embeddings: new HashEmbeddings() });
    const model = new RecordingChatModel({ replies: ["Bob keeps his savings in a shoebox.", "Bob plays chess on Sundays."] });
    // The app's own history (the in-memory default is Engram's, and the erasure empties it:
    // adapters/chat_history/erased_default.int.test.ts).
    const options = { memory, userId: "bob", threadId: "s1", window: { maxTurns: 1 }, summaryModel: model, importanceThreshold: 0, history: new InMemoryChatMessageHistory() };
    const history = new EngramChatMessageHistory(options);
    await history.addMessages([new HumanMessage({ id: "h1", content: "My savings are in a shoebox." }), new AIMessage({ id: "a1", content: "Noted." })]);
    await history.addMessages([new HumanMessage({ id: "h2", content: "I bank nowhere else." }), new AIMessage({ id: "a2", content: "Understood." })]);
    await history.flush();
    expect((await memory.getAll({ userId: "bob" })).map((record) => record.content)).toContain("Bob keeps his savings in a shoebox.");
    await memory.deleteAll({ userId: "bob" });

    // The app keeps its history; the next turn, in this process and in a new history object (the
    // way RunnableWithMessageHistory makes one per run), files nothing of the erased turns.
    await history.addMessages([new HumanMessage({ id: "h3", content: "What else?" }), new AIMessage({ id: "a3", content: "Nothing." })]);
    await history.flush();
    const next = new EngramChatMessageHistory(options);
    await next.addMessages([new HumanMessage({ id: "h4", content: "Still there?" }), new AIMessage({ id: "a4", content: "Yes." })]);
    await next.flush();
    expect(await memory.getAll({ userId: "bob" })).toEqual([]);
    expect(model.prompts).toHaveLength(1);

    // clear() empties the thread's history: the next conversation on it is filed again.
    await next.clear();
    await next.addMessages([new HumanMessage({ id: "h5", content: "I play chess on Sundays." }), new AIMessage({ id: "a5", content: "Nice." })]);
    await next.addMessages([new HumanMessage({ id: "h6", content: "Mostly the Sicilian." }), new AIMessage({ id: "a6", content: "Sharp." })]);
    await next.flush();
    const contents = (await memory.getAll({ userId: "bob" })).map((record) => record.content);
    expect(contents).toContain("Bob plays chess on Sundays.");
    expect(contents.join("\n")).not.toContain("shoebox");
    expect(model.prompts[1]).toContain("I play chess on Sundays.");
    expect(model.prompts[1]).not.toContain("shoebox");
    await memory.close();
  });
});
