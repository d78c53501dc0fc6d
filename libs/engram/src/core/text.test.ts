import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { isEngramError } from "./errors.js";
import { checkIdText, isBlank, isWellFormed, repairText, safeContent, splitText, unsafeIdReason } from "./text.js";

/** Code units a fuzzer rarely finds alone: surrogate halves, controls, bidi and zero-width characters. */
const SPECIAL = [
  "\uD83C", "\uDFB5", "\uD800", "\uDFFF", "\u0000", "\u0001", "\u001B", "\u007F", "\u0085", "\u009F", "\t", "\n", "\r",
  "\u202A", "\u202B", "\u202C", "\u202D", "\u202E", "\u2066", "\u2067", "\u2068", "\u2069", "\u200B", "\u200D", "\u2060",
  "\uFEFF", "\u2029", "\uFFFD", " ", "🎵", "é", "a", ".", "\u05D0",
];
const unit = fc.oneof(
  fc.constantFrom(...SPECIAL),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom("a", "b", " ", "z"),
);
/** Any sequence of UTF-16 code units, weighted towards the troublesome ones. */
const anyText = fc.string({ unit, maxLength: 200 });

function bidiBalancedPerLine(text: string): boolean {
  for (const line of text.split(/[\n\r\u2029\u0085\u001C-\u001E]/)) {
    const stack: string[] = [];
    for (const char of line) {
      if ("\u202A\u202B\u202D\u202E".includes(char)) stack.push("e");
      else if ("\u2066\u2067\u2068".includes(char)) stack.push("i");
      else if (char === "\u202C" && stack.pop() !== "e") return false;
      else if (char === "\u2069" && stack.pop() !== "i") return false;
    }
    if (stack.length > 0) return false;
  }
  return true;
}

describe("repairText", () => {
  it("repairs a message cut inside an emoji to U+FFFD, as TextEncoder does", () => {
    const cut = "I love this song 🎵".slice(0, 18);
    expect(isWellFormed(cut)).toBe(false);
    const repaired = repairText(cut);
    expect(repaired).toBe("I love this song \uFFFD");
    expect(new TextDecoder().decode(new TextEncoder().encode(cut))).toBe(repaired);
  });

  it("removes NUL and other controls but keeps tab, newline and carriage return", () => {
    expect(repairText("a\u0000b\u0007c\u001Bd\u007Fe\u0085f\u009F")).toBe("abcdef");
    expect(repairText("line one\n\tline two\r\n")).toBe("line one\n\tline two\r\n");
  });

  it("keeps paired bidi controls and drops unpaired ones (Trojan Source)", () => {
    expect(repairText("abc \u202Eevil")).toBe("abc evil");
    expect(repairText("x \u2067\u05D0\u2069 y")).toBe("x \u2067\u05D0\u2069 y");
    expect(repairText("\u202Bab\u202C")).toBe("\u202Bab\u202C");
    expect(repairText("stray \u202C and \u2069")).toBe("stray  and ");
    // An opener never pairs across a line break.
    expect(repairText("\u202Eone\ntwo\u202C")).toBe("one\ntwo");
  });

  it("leaves ordinary text alone", () => {
    for (const text of ["Hello, world", "Ünïcödé 🎵 שלום", "tab\tnewline\n", "a\u200Db"]) expect(repairText(text)).toBe(text);
  });

  it("output is always well-formed UTF-16, free of controls and unpaired bidi, and repair is idempotent", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const once = repairText(text);
        expect(isWellFormed(once)).toBe(true);
        expect(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/.test(once)).toBe(false);
        expect(bidiBalancedPerLine(once)).toBe(true);
        expect(repairText(once)).toBe(once);
        // Well-formed means TextEncoder round-trips it exactly.
        expect(new TextDecoder("utf-8", { ignoreBOM: true }).decode(new TextEncoder().encode(once))).toBe(once);
      }),
      { numRuns: 5_000 },
    );
  });

  it("well-formed text without controls or bidi marks is returned unchanged", () => {
    const clean = fc.string({ unit: "grapheme", maxLength: 100 }).filter((t) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/.test(t));
    fc.assert(fc.property(clean, (text) => expect(repairText(text)).toBe(text)), { numRuns: 2_000 });
  });
});

describe("safeContent", () => {
  it("refuses text that shows nothing with INVALID_CONTENT", () => {
    for (const blank of ["", "   ", "\u200B\u200B", "\u2060\uFEFF\u200D", " \u3164 ", "\u0000\u0000", "\uD83C", "\u202E"]) {
      expect(isBlank(repairText(blank))).toBe(true);
      let error: unknown;
      try {
        safeContent(blank);
      } catch (caught) {
        error = caught;
      }
      expect(isEngramError(error, "INVALID_CONTENT")).toBe(true);
    }
  });

  it("refuses non-strings and returns trimmed, repaired text", () => {
    expect(() => safeContent(42)).toThrow(/must be a string/);
    expect(safeContent("  a\u0000b \uD83C ")).toBe("ab \uFFFD");
  });

  it("either throws INVALID_CONTENT or returns well-formed, non-blank text", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        try {
          const safe = safeContent(text);
          expect(isWellFormed(safe)).toBe(true);
          expect(isBlank(safe)).toBe(false);
          expect(safeContent(safe)).toBe(safe);
        } catch (error) {
          expect(isEngramError(error, "INVALID_CONTENT")).toBe(true);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});

describe("ids", () => {
  it("refuses lone surrogates, controls, bidi controls and invisible-only ids; accepts the rest", () => {
    expect(unsafeIdReason("alice")).toBeUndefined();
    expect(unsafeIdReason("ali\u200Bce")).toBeUndefined();
    expect(unsafeIdReason("user-🎵")).toBeUndefined();
    expect(unsafeIdReason("alice\uD83C")).toMatch(/lone UTF-16 surrogate/);
    expect(unsafeIdReason("ali\u0000ce")).toMatch(/control/);
    expect(unsafeIdReason("alice\n")).toMatch(/control/);
    expect(unsafeIdReason("\u202Eecila")).toMatch(/bidirectional/);
    expect(unsafeIdReason("\u200B")).toMatch(/empty/);
    expect(() => checkIdText("a\uDC00", "userId", "INVALID_USER_ID")).toThrow(/userId contains a broken character/);
  });

  it("two different ids never repair into one: an id is either refused or kept as given", () => {
    fc.assert(
      fc.property(anyText, (id) => {
        if (unsafeIdReason(id) === undefined) expect(repairText(id)).toBe(id);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe("splitText", () => {
  it("cuts at paragraph, sentence or word boundaries and keeps every word in order", () => {
    const sentence = "The quick brown fox jumps over the lazy dog. ";
    const text = sentence.repeat(1_200); // 54,000 characters
    const parts = splitText(text, 8_000);
    expect(parts.length).toBe(7);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(8_000);
      expect(part.endsWith(".")).toBe(true);
    }
    expect(parts.join(" ")).toBe(text.trim());
  });

  it("never splits a surrogate pair and never makes a part longer than the limit", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("🎵", "a", " ", "\n", ". ", "é"), maxLength: 400 }), fc.integer({ min: 2, max: 60 }), (text, max) => {
        const parts = splitText(text, max);
        for (const part of parts) {
          expect(part.length).toBeLessThanOrEqual(max);
          expect(isWellFormed(part)).toBe(true);
          expect(isBlank(part)).toBe(false);
        }
        expect(parts.join("").replace(/\s/g, "")).toBe(text.replace(/\s/g, ""));
        expect(splitText(text, max)).toEqual(parts);
      }),
      { numRuns: 2_000 },
    );
  });
});
