/**
 * EngramStore: LangGraph's long-term memory store, on Chroma. Quoted by docs/store.md and run by
 * store.int.test.ts, so the docs cannot drift from the library.
 */
import { randomUUID } from "node:crypto";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { SystemMessage } from "@langchain/core/messages";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { EngramStore, type EngramStoreOptions } from "engram/store";

export function createStore(options: EngramStoreOptions = {}): EngramStore {
  return new EngramStore({
    index: { fields: ["text"] }, // embed each value's "text" with the local model
    ttl: { defaultTtl: 60 * 24 * 30 }, // minutes: forget what was not read for 30 days
    ...options, // e.g. { dataDir } or { chroma: { url } }
  });
}

export async function storeBasics(store: EngramStore) {
  const alice = ["alice", "memories"];
  await store.put(alice, "diet", { text: "Alice is allergic to peanuts", topic: "health", year: 2019 });
  await store.put(alice, "pet", { text: "Alice adopted a beagle called Pixel", topic: "family", year: 2023 });
  await store.put(alice, "todo", { text: "Call the vet on Monday" }, false, { ttl: 60 }); // not embedded, 1 hour
  await store.put(["bob", "memories"], "diet", { text: "Bob is vegetarian", topic: "health", year: 2021 });

  const byMeaning = await store.search(alice, { query: "What can she not eat?", limit: 1 });
  const filtered = await store.search(["alice"], { filter: { year: { $gte: 2020 }, topic: { $ne: "health" } } });
  const namespaces = await store.listNamespaces({ suffix: ["memories"] });
  return { byMeaning, filtered, namespaces };
}

export function buildGraph(store: EngramStore, model: BaseChatModel) {
  async function chat(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
    const namespace = [config.configurable?.user_id as string, "memories"];
    const text = state.messages[state.messages.length - 1]!.text;
    if (text.startsWith("Remember: ")) {
      await config.store!.put(namespace, randomUUID(), { text: text.slice("Remember: ".length) });
    }
    const memories = await config.store!.search(namespace, { query: text, limit: 3 });
    const known = memories.map((item) => `- ${String(item.value.text)}`).join("\n") || "(nothing yet)";
    const reply = await model.invoke([new SystemMessage(`What you know about the user:\n${known}`), ...state.messages]);
    return { messages: [reply] };
  }
  return new StateGraph(MessagesAnnotation)
    .addNode("chat", chat)
    .addEdge(START, "chat")
    .addEdge("chat", END)
    .compile({ checkpointer: new MemorySaver(), store });
}
