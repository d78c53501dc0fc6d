/**
 * The package as a user installs it: every subpath in libs/engram/package.json resolves (from
 * examples/, through node_modules/engram, to the built dist) and exports the names listed here,
 * and `import "engram"` alone loads neither `langchain` nor `@langchain/classic` (optional peers
 * that only the middleware's and the classic chain's users have), nor any file of a framework door.
 * Each check runs in a fresh child node process whose module resolutions are recorded by a
 * resolve hook (ES modules) and read from require.cache (CommonJS).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const EXAMPLES = fileURLToPath(new URL("../", import.meta.url));
const ENGRAM = fileURLToPath(new URL("../../libs/engram/", import.meta.url));

/**
 * The runtime names of each entry point (types are checked by tsc on docs and examples): `engram`
 * exactly (its surface stays a screenful), each door at least these.
 */
const EXPECTED: Record<string, string[]> = {
  engram: [
    "CombinedImportanceScorer",
    "CoreBlocks",
    "DEFAULT_CORE_BLOCKS",
    "DEFAULT_FORGET_RULES",
    "DEFAULT_HEURISTIC_WEIGHTS",
    "DEFAULT_RANKER",
    "EngramError",
    "HeuristicImportanceScorer",
    "LLM_IMPORTANCE_PROMPT",
    "LlmImportanceScorer",
    "LocalEmbeddings",
    "Memory",
    "Procedures",
    "STATIC_MODEL_ID",
    "STATIC_RANKER",
    "StaticEmbeddings",
    "blockId",
    "isEngramError",
    "planForget",
    "reembed",
    "retention",
    "startChromaServer",
  ],
  "engram/graph": [
    "DEFAULT_FORGET_EVERY",
    "DEFAULT_IMPORTANCE_THRESHOLD",
    "DEFAULT_RECALL_LIMIT",
    "DEFAULT_SYSTEM_PROMPT",
    "EngramAnnotation",
    "GraphSessions",
    "MemoryState",
    "buildSystemPrompt",
    "createConsolidateNode",
    "createMemoryGraph",
    "createModelNode",
    "createRecallNode",
    "createRememberNode",
    "createScoreNode",
    "engramStateFields",
    "queueThreadRuns",
    "routeByImportance",
    "scopeFromConfig",
  ],
  "engram/working": ["DEFAULT_SUMMARY_MAX_TOKENS", "DEFAULT_WINDOW_TURNS", "MESSAGE_OVERHEAD_TOKENS", "SUMMARY_PROMPT", "countTokens", "selectWindow", "summarize"],
  "engram/middleware": ["engramMiddleware", "engramMiddlewareContext", "engramMiddlewareState", "queueThreadRuns"],
  "engram/checkpointer": ["CHECKPOINTS_FILE_NAME", "EngramCheckpointer"],
  "engram/store": ["EngramStore"],
  "engram/retriever": ["EngramRetriever"],
  "engram/tools": ["coreMemoryPrompt", "createMemoryTools"],
  "engram/classic": ["EngramMemory"],
  "engram/chat-history": ["EngramChatMessageHistory"],
  "engram/mcp": ["createEngramMcpServer"],
  "engram/state": ["PostgresState", "SqliteState"],
  "engram/ui": [
    "InspectorSource",
    "createInspectorApp",
    "eraseBodySchema",
    "listQuerySchema",
    "pageOf",
    "patchBodySchema",
    "searchQuerySchema",
    "startInspector",
    "statsOf",
    "uiOptionsSchema",
  ],
};

/** Internals the single entry point used to export: no entry point may (issue 14). */
const INTERNALS = ["invokeForJson", "parseJsonOutput", "boostByEntities", "noveltyOf", "collectionNameForLabel", "extractFacts", "reconcileFacts", "parseRating", "tokenUsageOf"];

/** A loaded module of these packages, by its path (yarn's node-modules linker: real folders). */
const LANGCHAIN = /\/node_modules\/langchain\//;
const CLASSIC = /\/node_modules\/@langchain\/classic\//;
/** Files of the framework doors in the built library. */
const DOORS = /\/libs\/engram\/dist\/(entries|adapters|graph|ui|cli)\//;

interface ChildReport {
  exports: Record<string, string[]>;
  /** Every module resolved or required, in order, after each step. */
  loaded: string[][];
}

let dir: string;
let hooks: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-exports-"));
  // The resolve hook runs on the loader thread: it appends each resolved URL to the log file, so
  // the log is complete once an import has settled.
  await writeFile(
    join(dir, "hooks.mjs"),
    [
      'import { appendFileSync } from "node:fs";',
      "export async function resolve(specifier, context, next) {",
      "  const result = await next(specifier, context);",
      "  appendFileSync(process.env.ENGRAM_LOAD_LOG, `${result.url}\\n`);",
      "  return result;",
      "}",
    ].join("\n"),
  );
  hooks = join(dir, "register.mjs");
  await writeFile(hooks, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`);
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

let runs = 0;

/** Imports each group of specifiers in turn in one fresh node process, from examples/ as a user's app would. */
function importInChild(groups: string[][]): ChildReport {
  const log = join(dir, `load-${(runs += 1)}.log`);
  const program = `
    import { createRequire } from "node:module";
    import { readFileSync, existsSync } from "node:fs";
    const cache = createRequire(process.cwd() + "/").cache;
    const report = { exports: {}, loaded: [] };
    for (const group of JSON.parse(process.env.ENGRAM_GROUPS)) {
      for (const specifier of group) report.exports[specifier] = Object.keys(await import(specifier)).sort();
      const esm = existsSync(process.env.ENGRAM_LOAD_LOG) ? readFileSync(process.env.ENGRAM_LOAD_LOG, "utf8").split("\\n").filter(Boolean) : [];
      report.loaded.push([...esm.map((url) => url.startsWith("file:") ? new URL(url).pathname : url), ...Object.keys(cache)]);
    }
    console.log(JSON.stringify(report));
  `;
  const child = spawnSync(process.execPath, ["--import", pathToFileURL(hooks).href, "--input-type=module", "--eval", program], {
    cwd: EXAMPLES,
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "", ENGRAM_LOAD_LOG: log, ENGRAM_GROUPS: JSON.stringify(groups) },
    // Loads every framework door (LangChain, LangGraph, MCP): 27 s once on a loaded machine; the
    // limit only catches a hang.
    timeout: 400_000,
  });
  expect({ status: child.status, stderr: child.stderr }).toMatchObject({ status: 0 });
  return JSON.parse(child.stdout.trim().split("\n").pop()!) as ChildReport;
}

describe("the built package's entry points", () => {
  it("package.json lists exactly these subpaths, each with a built .js and .d.ts", () => {
    const pkg = JSON.parse(readFileSync(join(ENGRAM, "package.json"), "utf8")) as { exports: Record<string, string | { types: string; import: string; default: string }> };
    const subpaths = Object.keys(pkg.exports).filter((key) => key !== "./package.json");
    expect(subpaths.map((key) => (key === "." ? "engram" : `engram/${key.slice(2)}`)).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const key of subpaths) {
      const target = pkg.exports[key] as { types: string; import: string; default: string };
      expect([key, existsSync(join(ENGRAM, target.import)), existsSync(join(ENGRAM, target.types)), target.default]).toEqual([key, true, true, target.import]);
    }
  });

  it('import "engram" loads neither langchain nor @langchain/classic, nor any framework door', () => {
    const { exports, loaded } = importInChild([["engram"], ["langchain", "@langchain/classic/chains"]]);
    const [afterEngram, afterControl] = loaded as [string[], string[]];
    expect(exports.engram).toEqual(EXPECTED.engram);
    expect(afterEngram.some((path) => path.includes("/libs/engram/dist/index.js"))).toBe(true);
    expect(afterEngram.filter((path) => LANGCHAIN.test(path) || CLASSIC.test(path))).toEqual([]);
    expect(afterEngram.filter((path) => DOORS.test(path))).toEqual([]);
    // The recorder sees both packages when they are loaded: the check above could fail.
    expect(afterControl.some((path) => LANGCHAIN.test(path))).toBe(true);
    expect(afterControl.some((path) => CLASSIC.test(path))).toBe(true);
  });

  it("a CommonJS app can require every subpath (Node's require of ES modules) and gets the same names", () => {
    // The exports' "default" condition: with "import" alone, require("engram") failed with
    // ERR_PACKAGE_PATH_NOT_EXPORTED ('No "exports" main defined'). Node 20.19+ and 22.12+ require
    // ES modules without a flag (the flag is for 20.17-20.18); none of Engram's modules awaits at
    // its top level, which require() cannot load.
    const program = `
      const report = {};
      for (const specifier of JSON.parse(process.env.ENGRAM_SUBPATHS)) report[specifier] = Object.keys(require(specifier)).sort();
      console.log(JSON.stringify(report));
    `;
    const child = spawnSync(process.execPath, ["--experimental-require-module", "--no-warnings", "--eval", program], {
      cwd: EXAMPLES,
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "", ENGRAM_SUBPATHS: JSON.stringify(Object.keys(EXPECTED)) },
      timeout: 400_000,
    });
    expect({ status: child.status, stderr: child.stderr }).toMatchObject({ status: 0 });
    const required = JSON.parse(child.stdout.trim().split("\n").pop()!) as Record<string, string[]>;
    for (const [subpath, names] of Object.entries(EXPECTED)) {
      expect([subpath, required[subpath]!.filter((name) => names.includes(name))]).toEqual([subpath, names]);
    }
  });

  it("every subpath resolves from an app's folder and exports its names, and no internals", () => {
    const subpaths = Object.keys(EXPECTED);
    const { exports, loaded } = importInChild([subpaths]);
    expect(Object.keys(exports)).toEqual(subpaths);
    for (const subpath of subpaths) expect([subpath, exports[subpath]!.filter((name) => EXPECTED[subpath]!.includes(name))]).toEqual([subpath, EXPECTED[subpath]]);
    for (const names of Object.values(exports)) expect(names.filter((name) => INTERNALS.includes(name))).toEqual([]);
    // None of the doors loads the optional peers either: each app brings its own langchain.
    expect(loaded[0]!.filter((path) => LANGCHAIN.test(path) || CLASSIC.test(path))).toEqual([]);
  });
});
