/**
 * The package's dependencies match what its built code imports: every package the library's own
 * files (what tsconfig.build.json compiles into dist/) import is a dependency or a peer dependency
 * (else an install from the registry fails at run time), and a runtime dependency nothing imports
 * is one only the lead's list below excuses (it should move to devDependencies or go).
 */
import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

/**
 * Dependencies no built file imports and that are kept anyway, each with its reason. None today
 * (session 7 moved `minisearch`, the reference BM25 of scoring/lexical_index.test.ts, to
 * devDependencies and dropped `piscina`, imported nowhere).
 */
const UNUSED_REPORTED: string[] = [];

/** Files tsconfig.build.json compiles (its excludes: tests, test helpers, the conformance suites). */
function builtFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "tests" ? [] : builtFiles(path);
    if (!/\.(ts|mjs)$/.test(entry.name) || entry.name.endsWith(".test.ts") || entry.name === "conformance.ts") return [];
    return [path];
  });
}

function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]!)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

describe("engram's package.json against what its built code imports", () => {
  const imports = new Map<string, string[]>();
  for (const file of builtFiles(join(root, "src"))) {
    for (const { fileName } of ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles) {
      const name = packageOf(fileName);
      if (name !== undefined) imports.set(name, [...(imports.get(name) ?? []), relative(root, file)]);
    }
  }

  it("every package the library imports is a dependency or a peer dependency", () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
    const undeclared = [...imports].filter(([name]) => !declared.has(name)).map(([name, files]) => `${name} (${files[0]})`);
    expect(undeclared).toEqual([]);
    // The scan sees the library's real imports (a broken scan would find none and pass).
    expect([...imports.keys()]).toEqual(expect.arrayContaining(["chromadb", "zod", "@langchain/core"]));
  });

  it("a runtime dependency nothing imports is one already reported to move", () => {
    const unused = Object.keys(pkg.dependencies).filter((name) => !imports.has(name));
    expect(unused.filter((name) => !UNUSED_REPORTED.includes(name))).toEqual([]);
  });
});
