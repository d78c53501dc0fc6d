import { describe, expect, it } from "@jest/globals";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { isEngramError } from "../core/errors.js";
import { countTokens } from "./tokens.js";

// countTokens is public (engram/working). One message instead of a list, undefined, or a list
// holding null threw a TypeError ("input is not iterable", "Cannot read properties of null")
// instead of the typed error every other public input gets.
describe("countTokens refuses what is neither a text nor a list of messages", () => {
  it("with INVALID_CONTENT", () => {
    for (const bad of [new HumanMessage("hi"), undefined, 42, { content: "hi" }, [null], [new HumanMessage("hi"), "hi"]]) {
      let caught: unknown;
      try {
        countTokens(bad as unknown as BaseMessage[]);
      } catch (error) {
        caught = error;
      }
      expect(isEngramError(caught, "INVALID_CONTENT")).toBe(true);
    }
    // Structural reading stays: a checkpoint's plain message objects are counted.
    expect(countTokens([{ content: "hello world" } as unknown as BaseMessage])).toBe(countTokens([new HumanMessage("hello world")]));
  });
});
