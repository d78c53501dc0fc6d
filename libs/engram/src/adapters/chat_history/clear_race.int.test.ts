import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { InMemoryChatMessageHistory } from "@langchain/core/chat_history";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { Memory } from "../../memory/memory.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { RecordingChatModel } from "../../tests/fake_chat.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { EngramChatMessageHistory } from "./history.js";

/*
 * Two workers serve one thread over a shared chat history and the same data. Worker A's filing
 * is summarizing the turns that left the window (a model call of seconds) when the user clears
 * the conversation through worker B. clear() emptied the history and retired the thread's
 * summaries at once, without waiting for A's filing: A's summary of the cleared turns landed
 * after, not retired, and the next conversation on the thread began with it.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

let chroma: TestChroma;

beforeAll(async () => {
  chroma = await startTestChroma();
});
afterAll(async () => {
  await chroma?.stop();
});

describe("clear() while another worker's filing of the thread is summarizing", () => {
  it("the summary of the cleared turns does not reach the next conversation", async () => {
    const dataDir = join(chroma.dir, "clear-race");
    const open = () => new Memory({ dataDir, chroma: { url: chroma.server.url }, embeddings: new HashEmbeddings() });
    const [a, b] = [open(), open()];
    const shared = new InMemoryChatMessageHistory();
    let summarizing!: () => void;
    const reached = new Promise<void>((resolve) => (summarizing = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const model = new RecordingChatModel({
      replies: [
        async () => {
          summarizing();
          await answered;
          return "Carla's brother Bruno lives in Lyon.";
        },
        "Carla is planning a garden.",
      ],
    });
    const options = { userId: "carla", threadId: "s1", history: shared, window: { maxTurns: 1 }, summaryModel: model, importanceThreshold: 1, onWarning: () => {} };
    const workerA = new EngramChatMessageHistory({ memory: a, ...options });
    await workerA.addMessages([
      new HumanMessage({ id: "h1", content: "My brother Bruno lives in Lyon." }),
      new AIMessage({ id: "a1", content: "Noted." }),
      new HumanMessage({ id: "h2", content: "He works as a chef." }),
      new AIMessage({ id: "a2", content: "Nice." }),
    ]);
    await reached;
    const clearing = new EngramChatMessageHistory({ memory: b, ...options }).clear();
    // Let clear() run to its end, or to where it waits for the filing (shapes the order only).
    await Promise.race([clearing, new Promise((resolve) => setTimeout(resolve, 3_000))]);
    answer();
    await clearing;
    await workerA.flush();

    // The next conversation on the thread, through worker B.
    const workerB = new EngramChatMessageHistory({ memory: b, ...options });
    await workerB.addMessages([
      new HumanMessage({ id: "h3", content: "I am planning a garden." }),
      new AIMessage({ id: "a3", content: "Lovely." }),
      new HumanMessage({ id: "h4", content: "Tomatoes first." }),
      new AIMessage({ id: "a4", content: "Good choice." }),
    ]);
    await workerB.flush();
    const shown = (await workerB.getMessages()).map((message) => message.text).join("\n");
    expect(shown).toContain("Carla is planning a garden.");
    expect(shown).not.toContain("Lyon");
    // Long-term memory keeps the cleared conversation's summary, as clear() promises.
    expect((await b.getAll({ userId: "carla", kind: "summary" })).map((record) => record.content)).toContain("Carla's brother Bruno lives in Lyon.");
    await a.close();
    await b.close();
  });
});
