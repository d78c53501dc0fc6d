import { expect, it } from "@jest/globals";
import { join } from "node:path";
import type { BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { Memory } from "engram";
import { rememberAcrossSessions } from "./base_memory.js";
import { expectQuotedVerbatim } from "./tests/doc_quotes.js";
import { suiteTempDir } from "./tests/temp_dir.js";

const dir = suiteTempDir("engram-base-memory-");

/** Canned replies, and every prompt it was given (classic chains read the reply's generation text). */
class RecordingListModel extends FakeListChatModel {
  readonly prompts: string[] = [];

  override async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    this.prompts.push(messages.map((message) => message.text).join("\n"));
    return super._generate(messages, options);
  }
}

const replies = ["Noted!", "Lovely.", "Try a history podcast.", "Bye!", "A vegetarian francesinha in Porto?", "Where does your sister live?"];

it("alice's fact from Monday's session reaches the model on Tuesday, the summary once turns leave the window, never bob", async () => {
  // The embedded default in a temporary data folder: a real local Chroma server, local embeddings.
  const memory = new Memory({ dataDir: dir.path });
  const llm = new RecordingListModel({ responses: replies });
  try {
    expect(await rememberAcrossSessions(llm, memory)).toEqual(replies);
    // ConversationChain renders its prompt into one human message: the whole prompt of each call.
    const { prompts } = llm;

    // Monday's fourth turn: the first turn left the 2-turn window and is in the summary instead.
    expect(prompts[3]).toMatch(/Summary of the earlier conversation[^\n]*:\n.*Porto/);
    expect(prompts[3]).not.toContain("Human: Please remember");
    // Tuesday: a new session with an empty window, and the fact recalled from Monday.
    expect(prompts[4]).toContain("<recalled_memories>");
    expect(prompts[4]).toContain("my sister Ana lives in Porto");
    // Bob: the same question, nothing of alice's.
    expect(prompts[5]).not.toContain("Porto");
    expect(prompts[5]).not.toContain("vegetarian");

    // Only the fact was worth storing as episodes; small talk reached long-term memory only via the summary.
    const told = (await memory.getAll({ userId: "alice", kind: "episode" })).filter((record) => record.role === "user").map((record) => record.content);
    expect(told).toContain("Please remember: my sister Ana lives in Porto, and I'm vegetarian.");
    for (const smallTalk of ["Nice weather today.", "Any good podcasts?", "Thanks, talk soon."]) expect(told).not.toContain(smallTalk);
  } finally {
    await memory.close();
  }
});

it("the code quoted in docs/base-memory.md is this example, verbatim", async () => {
  await expectQuotedVerbatim("base-memory.md", ["base_memory.ts"]);
});
