import { describe, expect, it } from "@jest/globals";
import { tmpdir } from "node:os";
import { fullDiskHint, plainText } from "./chroma_launch.js";

/*
 * What a failed start says. On a full disk Chroma exits during start with only its coloured banner
 * as output: the error said CHROMA_EXITED and showed the escapes, never why (ADV-CHAOS's report).
 */
describe("the Chroma server's start failure message", () => {
  it("says the disk is full, with the bytes free, when the folder's disk has less free space than the threshold", async () => {
    const hint = await fullDiskHint(tmpdir(), Number.MAX_SAFE_INTEGER);
    expect(hint).toMatch(new RegExp(`The disk holding ${tmpdir()} is full \\(\\d+ bytes free\\)`));
    expect(await fullDiskHint(tmpdir(), 0)).toBe("");
    // A folder that cannot be read says nothing rather than failing the error it decorates.
    expect(await fullDiskHint("/no/such/folder/anywhere")).toBe("");
  });

  it("shows the server's output without terminal colour escapes", () => {
    expect(plainText("\u001b[38;5;069mChroma\u001b[0m \u001b[1mrunning\u001b[22m\n")).toBe("Chroma running");
  });
});
