/**
 * Each page's options table (`| option | default | meaning |`) lists exactly the options of the
 * type its constructor takes, as the package declares them: a row for an option that does not
 * exist (a rename the page missed) or an option without a row fails. The types are read with the
 * TypeScript compiler from the built package's declarations, as a user's editor sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const EXAMPLES = join(ROOT, "examples");

/** Page, the type its table documents (imported from a subpath), and names the table may leave out. */
const TABLES: Array<{ page: string; type: string; from: string; inherited?: string[]; prefix?: string }> = [
  { page: "memory.md", type: "MemoryOptions", from: "engram" },
  { page: "graph.md", type: "MemoryGraphOptions", from: "engram/graph" },
  { page: "middleware.md", type: "EngramMiddlewareOptions", from: "engram/middleware" },
  { page: "checkpointer.md", type: "EngramCheckpointerOptions", from: "engram/checkpointer" },
  { page: "store.md", type: "EngramStoreOptions", from: "engram/store" },
  // BaseRetriever's own fields (LangChain's, not Engram's options).
  { page: "retriever.md", type: "EngramRetrieverOptions", from: "engram/retriever", inherited: ["callbacks", "tags", "metadata", "verbose"] },
  { page: "tools.md", type: "MemoryToolsOptions", from: "engram/tools" },
  { page: "base-memory.md", type: "EngramMemoryOptions", from: "engram/classic" },
  { page: "chat-history.md", type: "EngramChatMessageHistoryOptions", from: "engram/chat-history" },
];

/**
 * The option names of a page's first options table: the code spans of each row's first cell,
 * up to the first dot (`index.fields` is `index`; `index: false` is `index`), so a row such as
 * "`recallIndex` (was `recallCache`, still accepted)" names both.
 */
function tableOptions(page: string): string[] {
  const text = readFileSync(join(ROOT, "docs", page), "utf8");
  const start = text.indexOf("| option | default | meaning |");
  expect(start).toBeGreaterThanOrEqual(0);
  const names = new Set<string>();
  for (const line of text.slice(start).split("\n").slice(2)) {
    if (!line.startsWith("|")) break;
    const cell = line.slice(1).split(" | ")[0]!;
    for (const match of cell.matchAll(/`([A-Za-z_$][\w$]*)/g)) names.add(match[1]!);
  }
  return [...names].sort();
}

let dir: string;
const declared = new Map<string, string[]>();

beforeAll(async () => {
  // Inside examples/, so that `engram` resolves as it does for the examples (the built package).
  dir = await mkdtemp(join(EXAMPLES, ".doc-snippets-options-"));
  const file = join(dir, "options.ts");
  const imports = TABLES.map((table, i) => `import type { ${table.type} as T${i} } from "${table.from}";`).join("\n");
  await writeFile(file, `${imports}\nexport type All = [${TABLES.map((_, i) => `T${i}`).join(", ")}];\n`);
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const problems = ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  expect(problems).toEqual([]);
  const checker = program.getTypeChecker();
  const alias = program.getSourceFile(file)!.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s))!;
  const tuple = checker.getTypeAtLocation(alias.name) as ts.TupleTypeReference;
  checker.getTypeArguments(tuple).forEach((type, i) => {
    declared.set(TABLES[i]!.page, checker.getPropertiesOfType(checker.getApparentType(type)).map((p) => p.name));
  });
}, 120_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("options tables in docs/", () => {
  it("reads a table's names the way its rows write them", () => {
    expect(tableOptions("memory.md")).toEqual(expect.arrayContaining(["recallIndex", "recallCache", "extractionModel", "model"]));
    expect(tableOptions("store.md")).toEqual(expect.arrayContaining(["index", "ttl"]));
    expect(tableOptions("store.md")).not.toContain("fields");
  });

  it.each(TABLES.map((table) => [table.page, table] as const))("%s: the table lists exactly the options of its type", (_page, table) => {
    const options = declared.get(table.page)!.filter((name) => !(table.inherited ?? []).includes(name));
    expect(options.length).toBeGreaterThan(3);
    expect({ type: table.type, names: tableOptions(table.page) }).toEqual({ type: table.type, names: [...options].sort() });
  });
});
