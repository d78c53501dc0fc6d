import { describe, expect, it } from "@jest/globals";
import { InMemoryChatMessageHistory } from "@langchain/core/chat_history";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { EngramChatMessageHistory } from "./history.js";

// A thread's summaries were read with one getAll of at most 1000. A long thread (a turn leaving
// the window makes a summary of its own) past 1000 summaries lost its oldest from `covered`: the
// turns they cover came back verbatim into every prompt, and each filing summarized them again.
const memories = testMemories();

const TURNS = 1006;
const WINDOW = 4;

describe("EngramChatMessageHistory with more than 1000 summaries (real Chroma)", () => {
  it("shows the window alone verbatim: every summarized turn stays summarized", async () => {
    const memory = memories.open("many-summaries", { writes: "sync", embeddings: new HashEmbeddings() });
    const history = new InMemoryChatMessageHistory();
    for (let i = 0; i < TURNS; i += 1) {
      await history.addMessages([new HumanMessage({ id: `h${i}`, content: `Question ${i}.` }), new AIMessage({ id: `a${i}`, content: `Answer ${i}.` })]);
    }
    // What the filing had stored: one summary per turn that left the window, oldest first.
    const start = Date.now() - TURNS * 1000;
    await memory.addMany(
      Array.from({ length: TURNS - WINDOW }, (_, i) => ({
        content: `The user asked question ${i}.`,
        kind: "summary" as const,
        source: { threadId: "t-1", messageIds: [`h${i}`, `a${i}`] },
        createdAt: start + i * 1000,
      })),
      { userId: "ivo", threadId: "t-1" },
    );
    const chat = new EngramChatMessageHistory({ memory, userId: "ivo", threadId: "t-1", history, window: { maxTurns: WINDOW }, onWarning: () => {} });
    const shown = await chat.getMessages();
    expect(shown[0]!.getType()).toBe("system");
    expect(shown.slice(1).map((message) => message.id)).toEqual(
      Array.from({ length: WINDOW }, (_, k) => TURNS - WINDOW + k).flatMap((i) => [`h${i}`, `a${i}`]),
    );
  }, 600_000);
});
