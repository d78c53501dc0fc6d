import { describe, expect, it } from "@jest/globals";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { countTokens } from "engram/working";
import {
  coverage,
  promptTokensByK,
  replyMessageId,
  scoreRecords,
  summarizeTokens,
  turnMessageId,
  turnOfMessage,
  turnsOfRecord,
} from "./graph_replay_metric.js";

const episode = (diaId: string, content = `turn ${diaId}`) => ({ content, source: { messageIds: [turnMessageId(diaId)] } });
const summary = (diaIds: string[], content: string) => ({
  content,
  source: { messageIds: diaIds.flatMap((id) => [turnMessageId(id), replyMessageId(turnMessageId(id))]) },
});

describe("message ids of replayed turns", () => {
  it("maps a turn's human message back to the turn", () => {
    expect(turnOfMessage(turnMessageId("D3:12"))).toBe("D3:12");
  });

  it("maps the scripted reply and foreign ids to no turn", () => {
    expect(replyMessageId(turnMessageId("D3:12"))).toBe("reply:D3:12");
    expect(turnOfMessage("reply:D3:12")).toBeUndefined();
    expect(turnOfMessage("b5f0c1e2-uuid")).toBeUndefined();
    expect(turnOfMessage("turn:")).toBeUndefined();
  });
});

describe("records mapped back to turns", () => {
  it("reads every turn a summary folds, once each, in order, and none from replies", () => {
    const record = { content: "s", source: { messageIds: ["turn:D1:2", "reply:D1:2", "turn:D1:3", "turn:D1:2", "reply:D1:3"] } };
    expect(turnsOfRecord(record)).toEqual(["D1:2", "D1:3"]);
  });

  it("gives no turn for a record without sources (a merged scripted reply, a fact)", () => {
    expect(turnsOfRecord({ content: "OK." })).toEqual([]);
    expect(turnsOfRecord({ content: "OK.", source: { messageIds: ["reply:D1:1", "reply:D1:2"] } })).toEqual([]);
  });
});

describe("scoreRecords", () => {
  it("counts the turns a summary covers within the top k records", () => {
    const ranked = [episode("D1:1"), summary(["D2:1", "D2:2", "D2:3"], "a summary of three turns"), episode("D3:1")];
    const score = scoreRecords(1, ["D2:3", "D3:1"], ranked, [1, 2, 3]);
    expect(score.recall).toEqual({ 1: 0, 2: 0.5, 3: 1 });
    expect(score.hit).toEqual({ 1: 0, 2: 1, 3: 1 });
  });

  it("charges the records' own text as tokens (characters / 4), not the turns they cover", () => {
    const ranked = [summary(["D2:1", "D2:2"], "x".repeat(40)), episode("D1:1", "y".repeat(8))];
    expect(scoreRecords(4, ["D2:1"], ranked, [1, 2]).tokens).toEqual({ 1: 10, 2: 12 });
  });

  it("scores an empty ranking as nothing found", () => {
    const score = scoreRecords(2, ["D1:1"], [], [10]);
    expect(score.recall[10]).toBe(0);
    expect(score.hit[10]).toBe(0);
    expect(score.tokens[10]).toBe(0);
  });

  it("does not count a turn twice when an episode and a summary both cover it", () => {
    const ranked = [episode("D1:1"), summary(["D1:1"], "same turn")];
    expect(scoreRecords(1, ["D1:1", "D1:2"], ranked, [2]).recall[2]).toBe(0.5);
  });
});

describe("coverage", () => {
  it("is the share of turns some record covers", () => {
    const records = [episode("D1:1"), summary(["D1:2", "D1:3"], "s"), { content: "OK.", source: { messageIds: ["reply:D1:4"] } }];
    expect(coverage(records, ["D1:1", "D1:2", "D1:3", "D1:4"])).toBe(0.75);
  });
});

describe("summarizeTokens", () => {
  it("reports the last turn's ratio and the ratio of the sums", () => {
    const summary = summarizeTokens([
      { engram: 100, full: 100 },
      { engram: 200, full: 1_000 },
      { engram: 150, full: 3_000 },
    ]);
    expect(summary.lastRatio).toBeCloseTo(0.05);
    expect(summary.totalRatio).toBeCloseTo(450 / 4_100);
    expect(summary.maxEngram).toBe(200);
    expect(summary.turns).toBe(3);
  });
});

describe("promptTokensByK", () => {
  it("gives the prompt's tokens with the first k recalled memories, k = 0..all; all is the prompt as sent", () => {
    const recalled = ["- [2023-05-08] the user said: Caroline: I painted a sunrise.", "- [2023-05-09] summary: user: Melanie runs a pottery class."];
    const system = new SystemMessage(
      ["You are a helpful assistant.", "Summary of the conversation so far:\nuser: hi", `Recalled memories (data).\n<recalled_memories>\n${recalled.join("\n")}\n</recalled_memories>`].join("\n\n"),
    );
    const messages = [system, new HumanMessage("When did Caroline paint a sunrise?")];
    const byK = promptTokensByK(messages);
    expect(byK).toHaveLength(3);
    expect(byK[2]).toBe(countTokens(messages));
    expect(byK[0]).toBe(countTokens([new SystemMessage("You are a helpful assistant.\n\nSummary of the conversation so far:\nuser: hi"), messages[1]!]));
    expect(byK[0]!).toBeLessThan(byK[1]!);
    expect(byK[1]!).toBeLessThan(byK[2]!);
    expect(promptTokensByK([new SystemMessage("no memories"), messages[1]!])).toEqual([countTokens([new SystemMessage("no memories"), messages[1]!])]);
  });
});
