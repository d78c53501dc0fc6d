/**
 * Every code block in README.md and docs/*.md is complete and compiles: each TypeScript block is
 * written to a file of its own inside the repository (so `engram`, `@langchain/*` and the rest
 * resolve as they do for a user of the workspace) and type-checked by tsc against the compiled
 * library; a block with relative imports is a file of the examples (checked there) and must be in
 * one verbatim. JSON blocks must parse. Blocks fenced ```ts run are also run, each in a fresh
 * folder, with the local Chroma server and embedding model the default `Memory` starts.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { allBlocks, docPages, hasRelativeImport, TYPESCRIPT, type DocBlock } from "./tests/doc_blocks.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const EXAMPLES = join(ROOT, "examples");
const pages = await docPages(ROOT);
const blocks = await allBlocks(ROOT);

/** examples/src files, read once, for blocks that quote one with its relative imports. */
async function exampleSources(dir = join(EXAMPLES, "src")): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await exampleSources(path)));
    else if (entry.name.endsWith(".ts")) out.push(await readFile(path, "utf8"));
  }
  return out;
}

const fileName = (block: DocBlock) => `${block.page.replace(/[^\w]+/g, "_")}_${block.index}.ts`;
const label = (block: DocBlock) => `${block.page} block ${block.index} (line ${block.line})`;
const checked = blocks.filter((block) => TYPESCRIPT.has(block.lang) && !hasRelativeImport(block.code));

let dir: string;
/** tsc's errors, by the block they are in. */
const errors = new Map<DocBlock, string[]>();

beforeAll(async () => {
  // Inside examples/: its package.json makes the files ES modules, and the workspace's packages
  // resolve from here as they do for the examples.
  dir = await mkdtemp(join(EXAMPLES, ".doc-snippets-"));
  for (const block of checked) {
    // `export {}` makes a block without imports a module too, so blocks never share names.
    await writeFile(join(dir, fileName(block)), `${block.code}\nexport {};\n`);
  }
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({ extends: "../../tsconfig.json", compilerOptions: { noEmit: true, types: ["node"], sourceMap: false, declaration: false }, include: ["*.ts"] }),
  );
  // tsc reports only syntax errors while any file has one: record them, set those files aside,
  // and run again for the type errors of the rest.
  const byFile = new Map(checked.map((block) => [fileName(block), block]));
  for (let pass = 0; pass < 3; pass += 1) {
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir, "--pretty", "false"], { encoding: "utf8" });
    if (tsc.status === 0) break;
    const broken = readErrors(`${tsc.stdout}${tsc.stderr}`, byFile);
    if (broken.length === 0) break;
    for (const file of broken) await rm(join(dir, file));
  }
}, 300_000);

/** Records tsc's output by block; returns the files with syntax errors (TS1xxx). */
function readErrors(output: string, byFile: Map<string, DocBlock>): string[] {
  const syntax = new Set<string>();
  let current: DocBlock | undefined;
  for (const line of output.split("\n")) {
    const match = /^(?:.*[\\/])?([^\\/()]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
    if (match) {
      current = byFile.get(match[1]!);
      if (current === undefined) {
        errors.set({ page: "(tsc)", index: errors.size, line: 0, lang: "", flags: [], code: "" }, [line]);
        continue;
      }
      if (/ TS1\d{3}:/.test(match[4]!)) syntax.add(match[1]!);
      errors.set(current, [...(errors.get(current) ?? []), `line ${match[2]} of the block: ${match[4]}`]);
    } else if (line.startsWith(" ") && current) {
      const list = errors.get(current)!;
      list[list.length - 1] += `\n${line}`;
    } else if (line.trim() !== "") {
      current = undefined;
      errors.set({ page: "(tsc)", index: errors.size, line: 0, lang: "", flags: [], code: "" }, [line]);
    }
  }
  return [...syntax];
}

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("code blocks in README.md and docs/", () => {
  it("covers README.md, every page in docs/ and the package's README", async () => {
    const docs = (await readdir(join(ROOT, "docs"))).filter((name) => name.endsWith(".md"));
    expect(pages).toEqual(["README.md", ...docs.sort().map((name) => `docs/${name}`), "libs/engram/README.md"]);
    expect(checked.length).toBeGreaterThan(10);
  });

  it("tsc ran on the blocks (no failure outside them)", () => {
    const outside = [...errors].filter(([block]) => block.page === "(tsc)").flatMap(([, lines]) => lines);
    expect(outside).toEqual([]);
  });

  it.each(pages)("%s: every TypeScript block compiles on its own, every JSON block parses", async (page) => {
    const sources = await exampleSources();
    const problems: string[] = [];
    for (const block of blocks.filter((b) => b.page === page)) {
      if (TYPESCRIPT.has(block.lang) && hasRelativeImport(block.code)) {
        // A file of the examples shown whole: tsc checks it there; it must be that file, verbatim.
        if (!sources.some((source) => source.includes(block.code))) problems.push(`${label(block)}: has relative imports but is not verbatim in any examples/src file`);
      }
      for (const error of errors.get(block) ?? []) problems.push(`${label(block)}, ${error}`);
      if (block.lang === "json") {
        try {
          JSON.parse(block.code);
        } catch (error) {
          problems.push(`${label(block)}: not JSON (${(error as Error).message})`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

const runnable = blocks.filter((block) => TYPESCRIPT.has(block.lang) && block.flags.includes("run"));

describe("blocks marked `run`", () => {
  it("there is at least one (README's example)", () => {
    expect(runnable.map((block) => block.page)).toContain("README.md");
  });

  it.each(runnable.map((block) => [label(block), block] as const))("%s runs to completion", async (_name, block) => {
    const cwd = join(dir, `run-${fileName(block).replace(/\.ts$/, "")}`);
    await mkdir(cwd, { recursive: true });
    const file = join(cwd, "snippet.ts");
    await writeFile(file, `${block.code}\nexport {};\n`);
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      let out = "";
      const child = spawn(process.execPath, ["--import", "tsx", relative(cwd, file)], { cwd, env: { ...process.env, NODE_OPTIONS: "" } });
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
      child.on("close", (code) => resolve({ code, out }));
    });
    expect({ exit: result.code, output: result.out }).toMatchObject({ exit: 0 });
  });
});
