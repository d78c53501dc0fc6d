import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { LocalEmbeddings } from "../../embeddings/local.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { EngramStore } from "./engram_store.js";

let chroma: TestChroma;
let store: EngramStore;
const embeddings = new LocalEmbeddings();

beforeAll(async () => {
  chroma = await startTestChroma();
  store = new EngramStore({ chroma: { url: chroma.server.url }, index: { fields: ["text"], embeddings } });
});

afterAll(async () => {
  await store?.close();
  await embeddings.close();
  await chroma?.stop();
});

/**
 * A graph whose one node writes and reads long-term memory through `config.store`, the way
 * LangGraph's docs do it: namespace `[userId, "memories"]`, the user from the run's config.
 */
function buildGraph(model: RecordingChatModel) {
  async function chat(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
    const userId = config.configurable?.user_id as string;
    const namespace = [userId, "memories"];
    const text = state.messages[state.messages.length - 1]!.text;
    if (text.startsWith("Remember: ")) await config.store!.put(namespace, randomUUID(), { text: text.slice("Remember: ".length) });
    const memories = await config.store!.search(namespace, { query: text, limit: 3 });
    const known = memories.map((item) => `- ${String(item.value.text)}`).join("\n") || "(none)";
    const reply = await model.invoke([new SystemMessage(`What you know about the user:\n${known}`), ...state.messages]);
    return { messages: [reply] };
  }
  return new StateGraph(MessagesAnnotation).addNode("chat", chat).addEdge(START, "chat").addEdge("chat", END).compile({ checkpointer: new MemorySaver(), store });
}

describe("EngramStore as a compiled graph's store", () => {
  it("a memory written in one thread reaches the model in another thread of the same user, never another user's", async () => {
    const model = new RecordingChatModel("Noted.");
    const graph = buildGraph(model);
    const run = (userId: string, threadId: string, text: string) =>
      graph.invoke({ messages: [new HumanMessage(text)] }, { configurable: { thread_id: threadId, user_id: userId } });

    await run("alice", "alice-1", "Remember: I am allergic to peanuts");
    await run("alice", "alice-1", "Remember: my dog is called Rex");
    await run("bob", "bob-1", "Remember: I love peanut butter sandwiches");

    await run("alice", "alice-2", "What food should I avoid?");
    expect(model.lastConversation).toEqual(["What food should I avoid?"]); // a new thread: no checkpointed history
    expect(model.lastSystem).toContain("- I am allergic to peanuts");
    expect(model.lastSystem.split("\n")[1]).toBe("- I am allergic to peanuts"); // the relevant one first
    expect(model.lastSystem).not.toContain("peanut butter");

    await run("carol", "carol-1", "What food should I avoid?");
    expect(model.lastSystem).toBe("What you know about the user:\n(none)");

    // The graph's writes are ordinary store items.
    expect(await store.listNamespaces()).toEqual([["alice", "memories"], ["bob", "memories"]]);
    expect((await store.search(["alice", "memories"])).map((item) => item.value.text).sort()).toEqual(["I am allergic to peanuts", "my dog is called Rex"]);
  });
});
