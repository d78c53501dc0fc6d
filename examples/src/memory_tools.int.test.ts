import { expect, it } from "@jest/globals";
import { join } from "node:path";
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { Memory } from "engram";
import { buildMemoryAgent, twoThreads } from "./memory_tools.js";
import { expectQuotedVerbatim } from "./tests/doc_quotes.js";
import { suiteTempDir } from "./tests/temp_dir.js";

const dir = suiteTempDir("engram-tools-example-");

const toolText = (messages: BaseMessage[]): string => messages.filter((m) => ToolMessage.isInstance(m)).map((m) => m.text).join("\n");

it("the documented agent saves to core and archival memory in one thread and uses both in the next; bob sees none of it", async () => {
  // The embedded default in a temporary data folder: a real local Chroma server, local embeddings.
  const memory = new Memory({ dataDir: dir.path });
  const model = fakeModel()
    .respondWithTools([
      { name: "core_memory_append", args: { label: "human", content: "Name: Alice. Vegetarian." } },
      { name: "archival_memory_insert", args: { content: "Alice's sister Ana lives in Porto." } },
    ])
    .respond(new AIMessage("Nice to meet you, Alice!"))
    .respondWithTools([{ name: "archival_memory_search", args: { query: "In which city does her sister live?" } }])
    .respond(new AIMessage("How about a vegetarian francesinha in Porto?"))
    .respondWithTools([{ name: "archival_memory_search", args: { query: "In which city does her sister live?" } }])
    .respond(new AIMessage("Where does your sister live?"));
  try {
    expect(await twoThreads(memory, model)).toEqual(["Nice to meet you, Alice!", "How about a vegetarian francesinha in Porto?"]);

    // Friday's first model call: a new thread, and the core block is already in the system prompt.
    const friday = model.calls[2]!.messages;
    expect(friday[0]!.text).toBe(
      "You are Sam. Keep your core memory about the user current.\n\n" +
        "<persona>\nI am Sam, a cooking assistant. I keep answers short.\n</persona>\n\n" +
        "<human>\nName: Alice. Vegetarian.\n</human>",
    );
    expect(toolText(model.calls[1]!.messages)).toContain('Appended to core block "human" (24/1000 characters used).');
    expect(friday.map((m) => m.text)).not.toContain("I'm Alice. I'm vegetarian, and my sister Ana lives in Porto.");
    // Its search found what Monday saved.
    expect(toolText(model.calls[3]!.messages)).toMatch(
      /^Archival memory, results 1-1 for "In which city does her sister live\?":\n1\. \[\d{4}-\d\d-\d\d, fact\] Alice's sister Ana lives in Porto\. \(score 0\.\d\d\)$/,
    );

    const agent = buildMemoryAgent(memory, model);
    await agent.invoke({ messages: [new HumanMessage("Any dinner ideas near my sister?")] }, { configurable: { user_id: "bob", thread_id: "b1" } });
    expect(model.calls[4]!.messages[0]!.text).toContain("<human>\n\n</human>");
    expect(toolText(model.calls[5]!.messages)).toBe('Nothing in archival memory matches "In which city does her sister live?".');
  } finally {
    await memory.close();
  }
});

it("the code quoted in docs/tools.md is this example, verbatim", async () => {
  await expectQuotedVerbatim("tools.md", ["memory_tools.ts"], 2);
});
