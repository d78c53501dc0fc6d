import { expect, it } from "@jest/globals";
import { join } from "node:path";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { factsTour } from "./facts.js";
import { expectQuotedVerbatim } from "./tests/doc_quotes.js";
import { suiteTempDir } from "./tests/temp_dir.js";

/** A model without tool calling that answers Engram's two memory prompts with canned JSON, and records them. */
class CannedFactModel extends BaseChatModel {
  readonly prompts: string[] = [];

  _llmType(): string {
    return "canned-facts";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const prompt = messages.map((message) => message.text).join("\n");
    this.prompts.push(prompt);
    let text: string;
    if (prompt.includes("Berlin") && prompt.startsWith("You extract")) {
      text = 'Sure, here you go:\n```json\n{"facts": [{"text": "User lives in Berlin", "entities": ["Berlin"]}]}\n```';
    } else if (prompt.startsWith("You extract")) {
      text = '{"facts": [{"text": "User lives in Paris", "entities": ["Paris"]}]}';
    } else {
      text = '{"decisions": [{"fact": 0, "event": "INVALIDATE", "id": "0"}]}';
    }
    return { generations: [{ text, message: new AIMessage(text) }] };
  }
}

const dir = suiteTempDir("engram-facts-");

it("Paris, then Berlin: Berlin is the current fact, Paris only with the past; the instruction is listed", async () => {
  const model = new CannedFactModel({});
  // The embedded default in a temporary data folder: a real local Chroma server, local embeddings.
  const { current, withPast, instructions } = await factsTour(model, { dataDir: dir.path });

  expect(current.map((fact) => fact.content)).toEqual(["User lives in Berlin"]);
  expect(withPast.map((fact) => fact.content).sort()).toEqual(["User lives in Berlin", "User lives in Paris"]);
  expect(withPast.find((fact) => fact.content.includes("Paris"))!.metadata.validUntil).toEqual(expect.any(Number));
  expect(instructions.map((record) => record.content)).toEqual(["When the user asks for code, answer in TypeScript"]);
  // The memory reached the model: the exchanges in the extraction prompts, Paris in the reconciliation.
  expect(model.prompts[0]).toContain("user: I live in Paris, near the canal.\nassistant: Lovely!");
  expect(model.prompts[1]).toContain("user: Big news: I moved to Berlin last month.");
  expect(model.prompts[2]).toContain("You keep a user's memory of facts");
  expect(model.prompts[2]).toContain("User lives in Paris");
});

it("the code quoted in docs/facts.md is this example, verbatim", async () => {
  await expectQuotedVerbatim("facts.md", ["facts.ts"]);
});
