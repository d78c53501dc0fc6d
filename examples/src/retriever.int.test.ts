import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { Memory } from "engram";
import { buildRecallChain, recallTool } from "./retriever.js";
import { expectQuotedVerbatim } from "./tests/doc_quotes.js";

let dir: string;
let memory: Memory;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-retriever-example-"));
  // The embedded default in a temporary data folder: a real local Chroma server, local embeddings.
  memory = new Memory({ dataDir: dir });
  await memory.add("Alice is allergic to peanuts.", { userId: "alice", kind: "fact" });
  await memory.add("The user Alice is allergic to peanuts!", { userId: "alice", kind: "fact" });
  await memory.add("Alice is training for the Berlin marathon.", { userId: "alice", kind: "fact" });
  await memory.add("Bob is allergic to shellfish.", { userId: "bob", kind: "fact" });
});
afterAll(async () => {
  await memory.close();
  await rm(dir, { recursive: true, force: true });
});

it("the documented chain puts alice's memories, without the duplicate, in the model's prompt", async () => {
  const model = fakeModel().respond(new AIMessage("Skip the satay sauce."));
  const chain = buildRecallChain(memory, model);
  expect(await chain.invoke("What should I avoid cooking for her?", { configurable: { user_id: "alice" } })).toBe("Skip the satay sauce.");
  const system = model.calls[0]!.messages[0]!.text;
  expect(system).toMatch(/^You are a helpful assistant\. What you remember about the user:\n- \[\d{4}-\d\d-\d\d\] Alice is allergic to peanuts\.\n/);
  expect(system).not.toContain("The user Alice is allergic to peanuts!");
  expect(system).not.toContain("Bob");
});

it("the documented tool gives the agent the run's user's memories only", async () => {
  const model = fakeModel()
    .respondWithTools([{ name: "recall", args: { query: "food allergies" } }])
    .respond(new AIMessage("No peanuts."))
    .respondWithTools([{ name: "recall", args: { query: "food allergies" } }])
    .respond(new AIMessage("No shellfish."));
  const agent = createReactAgent({ llm: model, tools: [recallTool(memory)] });
  await agent.invoke({ messages: [new HumanMessage("Plan a dinner for me.")] }, { configurable: { user_id: "alice" } });
  await agent.invoke({ messages: [new HumanMessage("Plan a dinner for me.")] }, { configurable: { user_id: "bob" } });
  const seen = (call: number) => model.calls[call]!.messages.filter((m) => ToolMessage.isInstance(m)).map((m) => m.text).join("\n");
  expect(seen(1)).toContain("Alice is allergic to peanuts.");
  expect(seen(1)).not.toContain("shellfish");
  expect(seen(3)).toMatch(/^- \[\d{4}-\d\d-\d\d\] Bob is allergic to shellfish\.$/);
});

it("the code quoted in docs/retriever.md is this example, verbatim", async () => {
  await expectQuotedVerbatim("retriever.md", ["retriever.ts"], 1);
});
