import { expect, it } from "@jest/globals";
import { join } from "node:path";
import { AIMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { Memory } from "engram";
import { rememberAcrossThreads } from "./middleware.js";
import { expectQuotedVerbatim } from "./tests/doc_quotes.js";
import { suiteTempDir } from "./tests/temp_dir.js";

const dir = suiteTempDir("engram-middleware-");

const replies = ["You're welcome!", "Noted!", "A vegetarian francesinha in Porto?", "Where does your sister live?"];

it("alice's fact from one thread reaches the system message in her next thread, never in bob's; small talk is not stored", async () => {
  // The embedded default in a temporary data folder: a real local Chroma server, local embeddings.
  const memory = new Memory({ dataDir: dir.path });
  const model = replies.reduce((fake, reply) => fake.respond(new AIMessage(reply)), fakeModel());
  try {
    expect(await rememberAcrossThreads(model, memory)).toEqual(replies);
    const systems = model.calls.map((call) => call.messages.filter((m) => m.getType() === "system").map((m) => m.text).join("\n"));

    expect(systems[2]).toMatch(/^You are a helpful assistant\./);
    expect(systems[2]).toContain("<recalled_memories>");
    expect(systems[2]).toContain("my sister Ana lives in Porto");
    expect(systems[3]).toBe("You are a helpful assistant.");

    const told = (await memory.getAll({ userId: "alice", kind: "episode" })).filter((record) => record.role === "user").map((record) => record.content);
    expect(told).toContain("Please remember: my sister Ana lives in Porto, and I'm vegetarian.");
    expect(told).not.toContain("ok thanks");
  } finally {
    await memory.close();
  }
});

it("the code quoted in docs/middleware.md is this example, verbatim", async () => {
  await expectQuotedVerbatim("middleware.md", ["middleware.ts"]);
});
