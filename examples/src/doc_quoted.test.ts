/**
 * A page that says "The code below is `examples/src/<file>`" shows that file: the first TypeScript
 * block after the sentence is in the file verbatim (its leading imports aside: a block repeats
 * them so it is complete for a reader). The example's own test runs the file, so the block shown
 * is the code that runs. Some pages' example tests compare their blocks already
 * (`expectQuotedVerbatim`); forgetting.md, importance.md and working-memory.md had nothing, and
 * memory.md said it quoted quickstart.ts while it showed a shorter program.
 */
import { describe, expect, it } from "@jest/globals";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { blocksOf, docPages, splitImports, TYPESCRIPT } from "./tests/doc_blocks.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLAIM = /The code below is `(examples\/src\/[\w/.-]+\.ts)`/g;

interface Quote {
  page: string;
  file: string;
  /** The block's code without its leading imports, or undefined when no TypeScript block follows. */
  body: string | undefined;
}

function quotesOf(page: string, text: string): Quote[] {
  const blocks = blocksOf(page, text);
  return [...text.matchAll(CLAIM)].map((match) => {
    const line = text.slice(0, match.index).split("\n").length;
    const block = blocks.find((b) => b.line > line && TYPESCRIPT.has(b.lang));
    return { page, file: match[1]!, body: block === undefined ? undefined : splitImports(block.code).body };
  });
}

const pages = await docPages(ROOT);
const quotes = pages.flatMap((page) => quotesOf(page, readFileSync(join(ROOT, page), "utf8")));

describe('pages that say "The code below is `examples/src/...`"', () => {
  it("there are some (forgetting.md, importance.md, working-memory.md among them)", () => {
    expect(quotes.map((quote) => quote.page)).toEqual(expect.arrayContaining(["docs/forgetting.md", "docs/importance.md", "docs/working-memory.md"]));
  });

  it("a block that is not in the file is found", () => {
    const [quote] = quotesOf("docs/x.md", "The code below is `examples/src/quickstart.ts`.\n\n```ts\nimport { Memory } from \"engram\";\n\nconst m = new Memory();\n```\n");
    expect(quote).toEqual({ page: "docs/x.md", file: "examples/src/quickstart.ts", body: "const m = new Memory();\n" });
    expect(readFileSync(join(ROOT, quote!.file), "utf8")).not.toContain(quote!.body);
  });

  it.each(quotes.map((quote) => [`${quote.page}: ${quote.file}`, quote] as const))("%s: the block after the sentence is in the file", (_name, quote) => {
    expect(existsSync(join(ROOT, quote.file))).toBe(true);
    expect(quote.body).toBeDefined();
    expect(readFileSync(join(ROOT, quote.file), "utf8")).toContain(quote.body);
  });
});
