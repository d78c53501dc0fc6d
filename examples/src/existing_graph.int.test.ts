import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { MemorySaver } from "@langchain/langgraph";
import { Memory } from "engram";
import { buildChatbot } from "./existing_graph.js";
import { buildAgent, closeChat } from "./session_end.js";
import { ScriptedChatModel } from "./graphs/scripted_model.js";
import { expectQuotedVerbatim } from "./tests/doc_quotes.js";

/** The scripted model, keeping the system prompt of every call. */
class RecordingModel extends ScriptedChatModel {
  readonly systems: string[] = [];

  override async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.systems.push(messages.filter((m) => m.getType() === "system").map((m) => m.text).join("\n"));
    return super._generate(messages);
  }
}

let dir: string;
let memory: Memory;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-existing-graph-"));
  memory = new Memory({ dataDir: dir }); // the embedded default: a real local Chroma, local embeddings
});
afterAll(async () => {
  await memory.close();
  await rm(dir, { recursive: true, force: true });
});

it("an existing chatbot graph with the memory nodes added recalls a fact from another thread, for that user only", async () => {
  const model = new RecordingModel({});
  const chatbot = buildChatbot(memory, model, new MemorySaver());
  const run = (userId: string, threadId: string, text: string) =>
    chatbot.invoke({ messages: [new HumanMessage(text)] }, { configurable: { user_id: userId, thread_id: threadId } });

  await run("alice", "a-1", "Remember this: I keep my spare house key with my neighbour Tomas.");
  await run("alice", "a-1", "ok thanks"); // small talk: routed past remember
  const episodes = await memory.getAll({ userId: "alice", kind: "episode" });
  expect(episodes.map((e) => e.content)).not.toContain("ok thanks");
  expect(episodes.some((e) => e.content.includes("Tomas"))).toBe(true);

  const answer = await run("alice", "a-2", "Who has my spare key?");
  expect(model.systems.at(-1)).toContain("neighbour Tomas");
  expect(answer.messages.at(-1)?.text).toContain("neighbour Tomas");

  await run("bob", "b-1", "Who has my spare key?");
  expect(model.systems.at(-1)).not.toContain("Tomas");
});

it("the code quoted in docs/graph.md is this example and the Studio agent, verbatim", async () => {
  const blocks = await expectQuotedVerbatim("graph.md", ["existing_graph.ts", "graphs/memory_agent.ts", "session_end.ts"], 4);
  expect(blocks).toHaveLength(4);
});

it("ending a session files the turns still in its window, so another thread recalls them", async () => {
  const model = new RecordingModel({});
  const agent = buildAgent(memory, model);
  const config = { configurable: { user_id: "carol", thread_id: "c-1" } };
  await agent.invoke({ messages: [new HumanMessage("ok")] }, config);
  // Says nothing about Carol (importance 0): remember skips it, it stays only in the window.
  await agent.invoke({ messages: [new HumanMessage("The gym by the station has a bright blue door.")] }, config);
  await memory.flush();
  expect(await memory.getAll({ userId: "carol" })).toHaveLength(0); // the window has not overflowed
  await closeChat(agent, "carol", "c-1");
  await memory.flush();
  const summaries = await memory.getAll({ userId: "carol", kind: "summary" });
  expect(summaries.some((record) => record.content.includes("blue door"))).toBe(true);

  await agent.invoke({ messages: [new HumanMessage("Which gym has a blue door?")] }, { configurable: { user_id: "carol", thread_id: "c-2" } });
  expect(model.systems.at(-1)).toContain("bright blue door");
  agent.cancelIdle();
});
