import { describe, expect, it } from "@jest/globals";
import { isEngramError } from "../../core/errors.js";
import { isWellFormed } from "../../core/text.js";
import { validateKey, validateNamespace, validateValue } from "./validate.js";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isEngramError(error) ? error.code : "not an EngramError";
  }
  return undefined;
}

describe("EngramStore: text safety before Chroma sees a value", () => {
  it("repairs text inside values (lone surrogates to U+FFFD, controls removed)", () => {
    const value = validateValue({ text: "song 🎵".slice(0, 6), nested: { list: ["a\u0000b", "\u202Eevil"] }, n: 1 });
    expect(value).toEqual({ text: "song \uFFFD", nested: { list: ["ab", "evil"] }, n: 1 });
    expect(isWellFormed(JSON.stringify(value))).toBe(true);
  });

  it("refuses keys and namespace labels with a lone surrogate or a NUL, rather than merging two into one", () => {
    expect(codeOf(() => validateKey("note\uD800"))).toBe("INVALID_ID");
    expect(codeOf(() => validateKey("note\u0000"))).toBe("INVALID_ID");
    expect(codeOf(() => validateNamespace(["alice", "mem\uDC00"]))).toBe("INVALID_NAMESPACE");
    expect(codeOf(() => validateKey("note 🎵"))).toBeUndefined();
  });
});
