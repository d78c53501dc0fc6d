import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import type { EngramStore } from "engram/store";
import { buildGraph, createStore, storeBasics } from "./store.js";
import { expectQuotedVerbatim } from "./tests/doc_quotes.js";

let dir: string;
let store: EngramStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-store-example-"));
  // The embedded default in a temporary data folder: the store starts a real local Chroma server.
  store = createStore({ dataDir: dir });
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

it("the documented basics find by meaning, filter with operators and list namespaces", async () => {
  const { byMeaning, filtered, namespaces } = await storeBasics(store);
  expect(byMeaning.map((item) => [item.key, item.value.text])).toEqual([["diet", "Alice is allergic to peanuts"]]);
  expect(byMeaning[0]!.score).toBeGreaterThan(0);
  expect(filtered.map((item) => item.key)).toEqual(["pet"]);
  expect(namespaces).toEqual([["alice", "memories"], ["bob", "memories"]]);
  expect((await store.get(["alice", "memories"], "todo"))!.value).toEqual({ text: "Call the vet on Monday" });
});

it("the documented graph: a memory from alice's first thread reaches the model in her second, never in bob's", async () => {
  const model = fakeModel().respond(new AIMessage("Noted.")).respond(new AIMessage("The Berlin marathon.")).respond(new AIMessage("No idea."));
  const graph = buildGraph(store, model);
  const run = (userId: string, threadId: string, text: string) =>
    graph.invoke({ messages: [new HumanMessage(text)] }, { configurable: { user_id: userId, thread_id: threadId } });
  await run("alice", "a-1", "Remember: I am training for the Berlin marathon");
  await run("alice", "a-2", "What am I training for?");
  await run("bob", "b-1", "What am I training for?");

  const system = (call: number) => model.calls[call]!.messages[0]!.text;
  const conversation = (call: number) => model.calls[call]!.messages.slice(1).map((m) => m.text);
  expect(conversation(1)).toEqual(["What am I training for?"]); // a new thread: the memory came from the store
  expect(system(1).split("\n")[1]).toBe("- I am training for the Berlin marathon");
  expect(system(2)).toBe("What you know about the user:\n- Bob is vegetarian");
});

it("the code quoted in docs/store.md is this example, verbatim", async () => {
  await expectQuotedVerbatim("store.md", ["store.ts"], 3);
});
