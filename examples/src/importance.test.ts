import { describe, expect, it } from "@jest/globals";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { HeuristicImportanceScorer } from "engram";
import { createImportanceScorer, rate } from "./importance.js";

class RecordingModel extends FakeListChatModel {
  readonly calls: BaseMessage[][] = [];

  override async _generate(messages: BaseMessage[], options?: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    this.calls.push(messages);
    return super._generate(messages, options, runManager);
  }
}

describe("importance example", () => {
  it("uses the heuristic alone without a model", async () => {
    const scorer = createImportanceScorer();
    expect(scorer).toBeInstanceOf(HeuristicImportanceScorer);
    expect(await rate(scorer, "user: ok thanks\nassistant: You're welcome!")).toEqual({ value: 0, reasons: [] });
    const fact = await rate(scorer, "user: Remember that my daughter Emma's birthday is on 12 May\nassistant: I will.");
    expect(fact.value).toBe(1);
    expect(await rate(scorer, "user: Remember that my daughter Emma's birthday is on 12 May", 0)).toMatchObject({ value: 0.5 });
  });

  it("combines it with the model's rating, which sees the exchange", async () => {
    const model = new RecordingModel({ responses: ["Rating: 4/10"] });
    const scored = await rate(createImportanceScorer(model), "user: I'm going to Kyoto in April");
    // heuristic: selfDisclosure 0.2 + plan 0.15 + dateTime 0.15 + name 0.1 = 0.6; model: (4 - 1) / 9.
    expect(scored.value).toBeCloseTo(Math.round(((0.6 + 2 * (3 / 9)) / 3) * 100) / 100, 10);
    expect(model.calls[0]![0]!.content).toContain("user: I'm going to Kyoto in April");
  });
});
