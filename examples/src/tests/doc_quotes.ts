import { expect } from "@jest/globals";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { splitImports } from "./doc_blocks.js";

const read = (path: string): Promise<string> => readFile(fileURLToPath(new URL(path, import.meta.url)), "utf8");

/**
 * Asserts that the page `docs/<page>` quotes at least `minBlocks` ```ts blocks and that each is,
 * verbatim (its leading imports aside), in one of the example `files` (paths under examples/src), so a docs snippet cannot
 * drift from the compiled, tested code. Returns the blocks for any further check.
 */
export async function expectQuotedVerbatim(page: string, files: readonly string[], minBlocks = 1): Promise<string[]> {
  const doc = await read(`../../../docs/${page}`);
  const sources = await Promise.all(files.map((file) => read(`../${file}`)));
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks.length).toBeGreaterThanOrEqual(minBlocks);
  // Whole in one file, apart from the imports a block starts with (each block is complete for a
  // reader, so it repeats the file's imports; doc_snippets.int.test.ts type-checks them). On a
  // miss, toContain shows the block against the first file.
  for (const block of blocks) {
    const { body } = splitImports(block);
    expect(sources.find((source) => source.includes(body)) ?? sources[0]).toContain(body);
  }
  return blocks;
}
