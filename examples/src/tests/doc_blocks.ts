import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** One fenced code block of a page. */
export interface DocBlock {
  /** The page, relative to the repository root (`README.md`, `docs/graph.md`). */
  page: string;
  /** 1-based position among the page's blocks, and the line its fence opens on. */
  index: number;
  line: number;
  /** The fence's language (`ts`, `json`, `bash`...), "" when none. */
  lang: string;
  /** Words after the language: `run` marks a block the snippet test also runs. */
  flags: string[];
  code: string;
}

const FENCE = /^```([\w-]*)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;

/**
 * The pages every block of which must compile: README.md, every docs/*.md (found when called) and
 * the package's own README (what npm shows).
 */
export async function docPages(root: string): Promise<string[]> {
  const docs = (await readdir(join(root, "docs"))).filter((name) => name.endsWith(".md")).sort();
  return ["README.md", ...docs.map((name) => `docs/${name}`), "libs/engram/README.md"];
}

export function blocksOf(page: string, text: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  for (const match of text.matchAll(FENCE)) {
    const line = text.slice(0, match.index).split("\n").length;
    blocks.push({
      page,
      index: blocks.length + 1,
      line,
      lang: match[1]!.toLowerCase(),
      flags: match[2]!.trim().split(/\s+/).filter(Boolean),
      code: match[3]!,
    });
  }
  return blocks;
}

export async function allBlocks(root: string): Promise<DocBlock[]> {
  const pages = await docPages(root);
  const texts = await Promise.all(pages.map((page) => readFile(join(root, page), "utf8")));
  return pages.flatMap((page, i) => blocksOf(page, texts[i]!));
}

export const TYPESCRIPT = new Set(["ts", "typescript", "tsx", "js", "javascript", "mjs"]);

/** The leading import statements of a block, and the rest (what a page quotes from an example file). */
export function splitImports(code: string): { imports: string; body: string } {
  const leading = /^(?:\s*import\s[\s\S]*?from\s*["'][^"']+["'];?[ \t]*\n|\s*import\s*["'][^"']+["'];?[ \t]*\n)*/.exec(code)![0];
  return { imports: leading, body: code.slice(leading.length).replace(/^\n+/, "") };
}

/** Relative imports (`./memory.js`): the block is a file of the examples and is checked there. */
export function hasRelativeImport(code: string): boolean {
  return /from\s*["']\.\.?\//.test(code) || /import\s*["']\.\.?\//.test(code);
}
