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
  optionalDependencies?: Record<string, string>;
};

/**
 * Dependencies no built file imports and that are kept anyway, each with its reason. None today
 * (session 7 moved `minisearch`, the reference BM25 of scoring/lexical_index.test.ts, to
 * devDependencies and dropped `piscina`, imported nowhere).
 */
const UNUSED_REPORTED: string[] = [];

/** Test code tsconfig.build.json leaves out besides tests/ folders and *.test.ts (its other excludes). */
const TEST_CODE = /(_peer\.ts|_child\.ts|^conformance\.ts|^interleavings\.ts|^block_better_sqlite3\.mjs)$/;

/** Files tsconfig.build.json compiles (its excludes: tests, test helpers, peers and children of tests, the conformance suites). */
function builtFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "tests" ? [] : builtFiles(path);
    if (!/\.(ts|mjs)$/.test(entry.name) || entry.name.endsWith(".test.ts") || TEST_CODE.test(entry.name)) return [];
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

  it("every package the library imports is a dependency, a peer dependency or an optional one (onnxruntime-node: loaded only where installed)", () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const undeclared = [...imports].filter(([name]) => !declared.has(name)).map(([name, files]) => `${name} (${files[0]})`);
    expect(undeclared).toEqual([]);
    // The scan sees the library's real imports (a broken scan would find none and pass).
    expect([...imports.keys()]).toEqual(expect.arrayContaining(["chromadb", "zod", "@langchain/core"]));
  });

  it("no library file imports test code: the package carries none (a peer of a test lives beside it, and is left out by name)", () => {
    const testImports = builtFiles(join(root, "src")).flatMap((file) =>
      ts
        .preProcessFile(readFileSync(file, "utf8"), true, true)
        .importedFiles.filter(({ fileName }) => fileName.startsWith(".") && (/(^|\/)tests\//.test(fileName) || /\.test\.js$/.test(fileName) || TEST_CODE.test(fileName.replace(/\.js$/, ".ts").split("/").pop()!)))
        .map(({ fileName }) => `${relative(root, file)} imports ${fileName}`),
    );
    expect(testImports).toEqual([]);
  });

  it("a runtime dependency nothing imports is one already reported to move", () => {
    // A `@types` package is used when the package it types is (see the declaration files' test).
    const typed = (name: string) => name.replace(/^@types\//, "").replace(/^(.*)__/, "@$1/");
    const unused = Object.keys(pkg.dependencies).filter((name) => !imports.has(name) && !(name.startsWith("@types/") && imports.has(typed(name))));
    expect(unused.filter((name) => !UNUSED_REPORTED.includes(name))).toEqual([]);
  });
});

/**
 * The declaration files a TypeScript user compiles against (dist/, built before the tests). A
 * package they name must reach the user with its types: a dependency or peer that ships its own,
 * or has its `@types` package among the dependencies (with `skipLibCheck: false` a missing one is
 * an error in Engram's files; with `true` the options it types silently become `any`). An optional
 * peer may only be named by the door that needs it: TypeScript names a type by the shortest path
 * it finds, and once printed `BaseMessage` from `langchain` (which re-exports it) in the graph's
 * declarations, an error for every user of `engram/graph` without `langchain`.
 */
describe("engram's declaration files against what a user installs", () => {
  const dist = join(root, "dist");
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  /** The door (a folder of dist/) of each optional peer. */
  const OPTIONAL_PEER_DOORS: Record<string, string> = {
    langchain: "adapters/middleware/",
    "@langchain/classic": "adapters/base_memory/",
    "@langchain/langgraph-checkpoint-postgres": "adapters/checkpointer/",
  };

  function declarationFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return declarationFiles(path);
      return entry.name.endsWith(".d.ts") ? [path] : [];
    });
  }

  const named = new Map<string, string[]>();
  for (const file of declarationFiles(dist)) {
    for (const { fileName } of ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles) {
      const name = packageOf(fileName);
      if (name !== undefined) named.set(name, [...(named.get(name) ?? []), relative(dist, file)]);
    }
  }

  /** Whether an installed package carries its own declarations. */
  function shipsTypes(name: string): boolean {
    const dir = join(root, "..", "..", "node_modules", name);
    const own = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    return "types" in own || "typings" in own || JSON.stringify(own.exports ?? {}).includes('"types"');
  }

  it("every package they name is installed with the user's copy, types included", () => {
    const dependencies = new Set(Object.keys(pkg.dependencies));
    const declared = new Set([...dependencies, ...Object.keys(pkg.peerDependencies)]);
    const problems = [...named].flatMap(([name, files]) => {
      if (!declared.has(name)) return [`${name} is not a dependency (${files[0]})`];
      const typesPackage = `@types/${name.replace(/^@(.*)\//, "$1__")}`;
      if (!shipsTypes(name) && !dependencies.has(typesPackage)) return [`${name} has no types for the user: ${typesPackage} is not a dependency (${files[0]})`];
      return [];
    });
    expect(problems).toEqual([]);
    // The scan reads the real declarations (a broken scan would find none and pass).
    expect([...named.keys()]).toEqual(expect.arrayContaining(["@langchain/core", "@langchain/langgraph", "zod", "pg"]));
  });

  it("an optional peer is named only in the declarations of the door that needs it", () => {
    const optional = Object.entries(manifest.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([name]) => name);
    expect(optional.sort()).toEqual(Object.keys(OPTIONAL_PEER_DOORS).sort());
    const outside = optional.flatMap((name) =>
      (named.get(name) ?? []).filter((file) => !file.startsWith(OPTIONAL_PEER_DOORS[name]!)).map((file) => `${name} in ${file}`),
    );
    expect(outside).toEqual([]);
  });
});

/**
 * The declarations of the packages a user's compiler reaches through Engram's: with
 * `skipLibCheck: false` every file they import is checked, so a dependency whose declarations
 * import a package it does not declare is an error for that user, one the monorepo's hoisted
 * node_modules (and its own `skipLibCheck: true`) hides. Engram cannot mend a dependency's files:
 * each one known is listed below with its reason and named in the package's README with the way
 * around it (scripts/check_install.mjs meets it in a new project).
 */
describe("the declarations of the packages Engram's declarations name", () => {
  const dist = join(root, "dist");
  const modules = join(root, "..", "..", "node_modules");
  /** `<package> imports <package>`: chromadb 3.5.0's bundled declarations import one of its devDependencies. */
  const KNOWN_UNDECLARED = ["chromadb imports @hey-api/client-fetch"];

  function declarationFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return declarationFiles(path);
      return entry.name.endsWith(".d.ts") ? [path] : [];
    });
  }

  const options: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
  /** Engram's own declaration file importing each package specifier (where to resolve it from). */
  const specifiers = new Map<string, string>();
  for (const file of declarationFiles(dist)) {
    for (const { fileName } of ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles) {
      if (packageOf(fileName) !== undefined && !specifiers.has(fileName)) specifiers.set(fileName, file);
    }
  }

  /** What a package declares it needs (its own name included: a file may import its own subpaths). */
  function declaredBy(name: string): Set<string> {
    const manifest = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
    return new Set([name, ...["dependencies", "peerDependencies", "optionalDependencies"].flatMap((field) => Object.keys(manifest[field] ?? {}))]);
  }

  it("import only packages their own package declares, or are known and named in the README", () => {
    const found = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string, owner: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const declared = declaredBy(owner);
      for (const { fileName } of ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles) {
        const name = packageOf(fileName);
        if (name !== undefined && !declared.has(name) && !declared.has(`@types/${name.replace(/^@(.*)\//, "$1__")}`)) found.add(`${owner} imports ${name}`);
        if (name !== undefined) continue;
        const resolved = ts.resolveModuleName(fileName, file, options, ts.sys).resolvedModule?.resolvedFileName;
        if (resolved?.endsWith(".d.ts") || resolved?.endsWith(".d.cts") || resolved?.endsWith(".d.mts")) visit(resolved, owner);
      }
    };
    for (const [specifier, from] of specifiers) {
      const resolved = ts.resolveModuleName(specifier, from, options, ts.sys).resolvedModule?.resolvedFileName;
      if (resolved !== undefined && /\.d\.[cm]?ts$/.test(resolved)) visit(resolved, packageOf(specifier)!);
    }
    expect([...found].sort()).toEqual(KNOWN_UNDECLARED);
    // The scan reached the dependencies' declarations (a broken scan would find none and pass).
    expect(seen.size).toBeGreaterThan(50);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(KNOWN_UNDECLARED.map((entry) => entry.split(" imports ")[1]!).filter((name) => !readme.includes(name))).toEqual([]);
  });
});

/**
 * The package ships dist/ and no src/ (package.json `files`), so a source map that only pointed at
 * `../src/...` would send a debugger, or the stack traces of `node --enable-source-maps`, to a file
 * the user does not have: every map must carry the text of each source it names.
 */
describe("engram's source maps", () => {
  const dist = join(root, "dist");
  function maps(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return maps(path);
      return entry.name.endsWith(".js.map") ? [path] : [];
    });
  }

  it("carry the source they map, the same text as the file in src/", () => {
    const files = maps(dist);
    // A broken scan would find none and pass: the package has well over a hundred modules.
    expect(files.length).toBeGreaterThan(100);
    const missing = files.flatMap((file) => {
      const map = JSON.parse(readFileSync(file, "utf8")) as { sources: string[]; sourcesContent?: Array<string | null> };
      return map.sources.flatMap((source, i) => {
        const text = map.sourcesContent?.[i];
        if (typeof text !== "string") return [`${relative(dist, file)}: no text for ${source}`];
        return text === readFileSync(join(dirname(file), source), "utf8") ? [] : [`${relative(dist, file)}: ${source} differs from src/`];
      });
    });
    expect(missing).toEqual([]);
  });
});

