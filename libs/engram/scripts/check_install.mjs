#!/usr/bin/env node
// Engram as a user installs it: builds and packs the package as it would be published, installs
// the tarball with npm into a new project outside the repository (with the peers the package's
// README names, then the doors' optional peers and TypeScript), and runs there, offline (the
// embedded default: a local Chroma server, local embeddings; a fake chat model):
// the README's example (as .mjs with node, and as .ts under `tsc --strict --skipLibCheck false`),
// `engram --help`, `engram list` on the example's data folder, `engram mcp` (answers, and exits
// once its client closes the pipe), and one example per door (graph, middleware, checkpointer,
// store, retriever, chat history, tools, classic), each compiled with the same strict tsc and run
// with node; then it checks that no Chroma server of the project is left running. The monorepo's tests resolve `engram` through a workspace symlink and a
// hoisted node_modules, which hides a file the package forgets, a dependency only the monorepo
// has, or declarations a user's compiler rejects: this is the check of what a user gets.
//
// Needs the registry npm is configured with, and minutes (the install compiles better-sqlite3
// where no prebuilt binary is fetched). Not part of the Jest suite for that reason.
// Usage: node libs/engram/scripts/check_install.mjs [--no-build] [--keep]
//   --no-build  pack the dist/ already built
//   --keep      keep the new project (its path is printed) instead of removing it
// Prints one line per step (ok / FAIL, with its time) and exits 1 if any step failed.
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ENGRAM = fileURLToPath(new URL("..", import.meta.url));
const ROOT = join(ENGRAM, "..", "..");
const EXAMPLES = join(ROOT, "examples", "src");
const args = new Set(process.argv.slice(2));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs a command; resolves with its exit code and output (never rejects). */
function run(command, commandArgs, { cwd, timeoutMs = 15 * 60_000, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd, env: { ...process.env, NODE_OPTIONS: "" }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, signal, stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });
}

const results = [];
/** One step: `body` returns a detail string, or throws with why it failed. */
async function step(name, body) {
  const started = Date.now();
  let ok = true;
  let detail;
  try {
    detail = await body();
  } catch (error) {
    ok = false;
    detail = error instanceof Error ? error.message : String(error);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  results.push({ name, ok });
  console.log(`${ok ? "ok  " : "FAIL"} ${name} (${seconds} s)${detail ? `: ${detail}` : ""}`);
  return ok;
}

/** Fails with the command's output unless it exited 0. */
function expectExit0(result, what) {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}${result.signal ? ` (${result.signal})` : ""}\n${(result.stdout + result.stderr).trim().slice(-4000)}`);
  if (/unhandled ?rejection/i.test(result.stderr)) throw new Error(`${what}: unhandled rejection\n${result.stderr.slice(-4000)}`);
}

/** Lines of npm's output that warn the user (deprecations, install scripts...). */
const warnings = (text) => text.split("\n").filter((line) => /\bwarn\b/i.test(line)).map((line) => `\n    ${line.trim()}`).join("");

/** Test code the package must not carry (the build leaves it out: tsconfig.build.json). */
const TEST_FILE = /(^|\/)tests\/|\.test\.|_peer\.|_child\.|interleavings\.|conformance\.|block_better_sqlite3/;
/** Files the package cannot work without. */
const REQUIRED = ["package/README.md", "package/LICENSE", "package/NOTICE", "package/models/static-use-lite.bin", "package/dist/cli/main.js", "package/dist/embeddings/local_worker.mjs", "package/dist/embeddings/local_onnx_worker.mjs", "package/dist/embeddings/use_lite_graph.mjs", "package/dist/embeddings/local_tfjs_model.mjs", "package/dist/embeddings/local_text.mjs"];

const work = await mkdtemp(join(tmpdir(), "engram-check-install-"));
const packDir = join(work, "pack");
const project = join(work, "fresh");
await mkdir(packDir, { recursive: true });
await mkdir(project, { recursive: true });
let tarball;

if (!args.has("--no-build")) {
  await step("build (corepack yarn workspace engram run build)", async () => {
    expectExit0(await run("corepack", ["yarn", "workspace", "engram", "run", "build"], { cwd: ROOT }), "build");
  });
}

await step("pack (npm pack)", async () => {
  const result = await run(NPM, ["pack", "--json", "--pack-destination", packDir], { cwd: ENGRAM });
  expectExit0(result, "npm pack");
  const [info] = JSON.parse(result.stdout.slice(result.stdout.indexOf("[")));
  tarball = join(packDir, info.filename);
  const files = (await run("tar", ["-tzf", tarball])).stdout.split("\n").filter(Boolean);
  const tests = files.filter((file) => TEST_FILE.test(file));
  if (tests.length > 0) throw new Error(`the package carries test code: ${tests.slice(0, 10).join(", ")}`);
  const missing = REQUIRED.filter((file) => !files.includes(file));
  if (missing.length > 0) throw new Error(`the package lacks ${missing.join(", ")}`);
  return `${info.filename}, ${(info.size / 1e6).toFixed(1)} MB packed, ${(info.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${files.length} files, no test code`;
});

/** The README's install line (what npm shows users), with the tarball in place of `engram`. */
const readme = await readFile(join(ENGRAM, "README.md"), "utf8");
const installLine = readme.split("\n").find((line) => line.startsWith("npm install engram "));
const readmeExample = /```ts\n(import \{ Memory \} from "engram";[\s\S]*?)```/.exec(readme)?.[1];

const installed = await step(`install into a new project: ${installLine ?? "(README has no npm install line)"}`, async () => {
  if (!tarball) throw new Error("no tarball");
  if (!installLine) throw new Error("libs/engram/README.md has no `npm install engram ...` line");
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "fresh-app", version: "1.0.0", private: true, type: "module" }, null, 2));
  const packages = installLine.split(/\s+/).slice(2).map((name) => (name === "engram" ? tarball : name));
  const result = await run(NPM, ["install", "--no-audit", "--no-fund", ...packages], { cwd: project });
  expectExit0(result, "npm install");
  return `${project}${warnings(result.stdout + result.stderr)}`;
});

await step("install the doors' optional peers and the user's tools: langchain @langchain/classic zod typescript @types/node", async () => {
  if (!installed) throw new Error("skipped: the install failed");
  const major = process.versions.node.split(".")[0];
  const result = await run(NPM, ["install", "--no-audit", "--no-fund", "langchain", "@langchain/classic", "zod", "typescript", `@types/node@${major}`], { cwd: project });
  expectExit0(result, "npm install");
  return warnings(result.stdout + result.stderr).trim() === "" ? "" : warnings(result.stdout + result.stderr);
});

await step("README example with node (quickstart.mjs)", async () => {
  if (!readmeExample) throw new Error("libs/engram/README.md has no example importing Memory from engram");
  await writeFile(join(project, "quickstart.mjs"), readmeExample);
  const result = await run(process.execPath, ["quickstart.mjs"], { cwd: project, timeoutMs: 180_000 });
  expectExit0(result, "node quickstart.mjs");
  if (!result.stdout.includes("User prefers Python for data science")) throw new Error(`unexpected output: ${result.stdout}`);
  return result.stdout.trim();
});

// One example per door: the repository's examples (what docs/ quotes), and a driver that runs each
// with a fake chat model, as examples/src/*.int.test.ts do.
const EXAMPLE_FILES = ["session_end.ts", "middleware.ts", "checkpointer.ts", "store.ts", "retriever.ts", "memory_tools.ts", "base_memory.ts"];
const HEAD = [
  'import { AIMessage, HumanMessage } from "@langchain/core/messages";',
  'import { fakeModel } from "@langchain/core/testing";',
  'import { Memory } from "engram";',
].join("\n");
/** A fake model answering each of `replies` in turn (`tools:` entries answer with tool calls). */
const MODEL = `function model(...replies: (string | { name: string; args: Record<string, unknown> }[])[]) {
  let fake = fakeModel();
  for (const reply of replies) fake = typeof reply === "string" ? fake.respond(new AIMessage(reply)) : fake.respondWithTools(reply);
  return fake;
}
void HumanMessage;`;
const DOORS = {
  graph: `import { buildAgent, closeChat } from "./session_end.js";
const memory = new Memory({ dataDir: "data-graph" });
try {
  const graph = buildAgent(memory, model("Noted.", "Noted.", "Noted.", "Noted.", "Noted.", "Noted."));
  await graph.invoke({ messages: [new HumanMessage("My sister Ana lives in Porto.")] }, { configurable: { user_id: "alice", thread_id: "a1" } });
  await closeChat(graph, "alice", "a1");
  console.log("graph: alice has", (await memory.getAll({ userId: "alice" })).length, "memories");
} finally {
  await memory.close();
}`,
  middleware: `import { rememberAcrossThreads } from "./middleware.js";
const memory = new Memory({ dataDir: "data-middleware" });
try {
  console.log("middleware:", await rememberAcrossThreads(model("You're welcome!", "Noted!", "A vegetarian francesinha in Porto?", "Where does your sister live?"), memory));
} finally {
  await memory.close();
}`,
  checkpointer: `import { rememberAcrossThreads } from "./checkpointer.js";
const memory = new Memory({ dataDir: "data-checkpointer" });
try {
  console.log("checkpointer:", await rememberAcrossThreads(model("Noted!", "How about a vegetarian francesinha in Porto?", "Where does your sister live?"), memory));
} finally {
  await memory.close();
}`,
  store: `import { createStore, storeBasics } from "./store.js";
const store = createStore({ dataDir: "data-store" });
try {
  const { byMeaning } = await storeBasics(store);
  console.log("store:", byMeaning[0]?.value);
} finally {
  await store.close();
}`,
  retriever: `import { buildRecallChain } from "./retriever.js";
const memory = new Memory({ dataDir: "data-retriever", writes: "sync" });
try {
  await memory.add("Alice is allergic to peanuts", { userId: "alice" });
  console.log("retriever:", await buildRecallChain(memory, model("Skip the satay sauce.")).invoke("What should I avoid cooking for her?", { configurable: { user_id: "alice" } }));
} finally {
  await memory.close();
}`,
  "chat-history": `import { chatWithMemory } from "./chat_history_doc.js";
const memory = new Memory({ dataDir: "data-chat-history" });
try {
  const chat = chatWithMemory(memory, model("Noted.", "Porto."), "alice");
  await chat.invoke({ input: "My sister Ana lives in Porto." }, { configurable: { sessionId: "chat-1" } });
  const reply = await chat.invoke({ input: "Where does my sister live?" }, { configurable: { sessionId: "chat-2" } });
  console.log("chat-history:", reply.text);
} finally {
  await memory.close();
}`,
  tools: `import { twoThreads } from "./memory_tools.js";
const memory = new Memory({ dataDir: "data-tools" });
try {
  const fake = model(
    [
      { name: "core_memory_append", args: { label: "human", content: "Name: Alice. Vegetarian." } },
      { name: "archival_memory_insert", args: { content: "Alice's sister Ana lives in Porto." } },
    ],
    "Nice to meet you, Alice!",
    [{ name: "archival_memory_search", args: { query: "In which city does her sister live?" } }],
    "How about a vegetarian francesinha in Porto?",
  );
  console.log("tools:", await twoThreads(memory, fake));
} finally {
  await memory.close();
}`,
  classic: `import { FakeListChatModel } from "@langchain/core/utils/testing";
import { rememberAcrossSessions } from "./base_memory.js";
const memory = new Memory({ dataDir: "data-classic" });
try {
  const llm = new FakeListChatModel({ responses: ["Noted!", "Lovely.", "Try a history podcast.", "Bye!", "A vegetarian francesinha in Porto?", "Where does your sister live?"] });
  console.log("classic:", await rememberAcrossSessions(llm, memory));
} finally {
  await memory.close();
}`,
};

/**
 * Errors of a dependency's own declarations, that Engram cannot fix and its README tells users
 * about (package_imports.test.ts keeps this list and the README in step): chromadb 3.5.0's
 * declarations import `@hey-api/client-fetch`, one of its devDependencies.
 */
const KNOWN_TSC_ERRORS = [/^node_modules\/chromadb\/dist\/chromadb\.d\.ts\(\d+,\d+\): error TS2307: Cannot find module '@hey-api\/client-fetch'/];

/** docs/chat-history.md's first block (the door has no example file): what a user copies. */
async function chatHistoryDoc() {
  const page = await readFile(join(ROOT, "docs", "chat-history.md"), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(page)?.[1];
  if (!block || !block.includes("export function chatWithMemory")) throw new Error("docs/chat-history.md's first block no longer exports chatWithMemory");
  return block;
}

await step("tsc --strict --skipLibCheck false --module nodenext: README example, the examples, the drivers", async () => {
  if (!installed) throw new Error("skipped: the install failed");
  const src = join(project, "src");
  await mkdir(src, { recursive: true });
  await writeFile(join(src, "quickstart.ts"), `${readmeExample ?? ""}\nexport {};\n`);
  for (const file of EXAMPLE_FILES) await copyFile(join(EXAMPLES, file), join(src, file));
  await writeFile(join(src, "chat_history_doc.ts"), await chatHistoryDoc());
  for (const [door, body] of Object.entries(DOORS)) {
    const imports = body.split("\n").filter((line) => line.startsWith("import "));
    const rest = body.split("\n").filter((line) => !line.startsWith("import "));
    await writeFile(join(src, `door_${door.replace("-", "_")}.ts`), [HEAD, ...imports, MODEL, ...rest, "export {};", ""].join("\n"));
  }
  const tsconfig = {
    compilerOptions: { strict: true, skipLibCheck: false, module: "nodenext", moduleResolution: "nodenext", target: "es2023", outDir: "out", rootDir: "src", types: ["node"] },
    include: ["src/*.ts"],
  };
  await writeFile(join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  const tsc = await run(process.execPath, [join(project, "node_modules", "typescript", "bin", "tsc"), "-p", ".", "--pretty", "false"], { cwd: project });
  const version = (await run(process.execPath, [join(project, "node_modules", "typescript", "bin", "tsc"), "--version"], { cwd: project })).stdout.trim();
  const lines = (tsc.stdout + tsc.stderr).split("\n").filter((line) => line.trim() !== "");
  const known = lines.filter((line) => KNOWN_TSC_ERRORS.some((pattern) => pattern.test(line)));
  const errors = lines.filter((line) => !known.includes(line));
  if (errors.length > 0) throw new Error(`${version}:\n${errors.join("\n").slice(0, 6000)}`);
  return `${version}${known.map((line) => `\n    known, in the README: ${line}`).join("")}`;
});

await step("README example compiled (out/quickstart.js) with node", async () => {
  const result = await run(process.execPath, ["out/quickstart.js"], { cwd: project, timeoutMs: 180_000 });
  expectExit0(result, "node out/quickstart.js");
  return result.stdout.trim();
});

await step("npx engram --help", async () => {
  const result = await run(NPM, ["exec", "--", "engram", "--help"], { cwd: project, timeoutMs: 120_000 });
  expectExit0(result, "engram --help");
  if (!result.stdout.includes("Usage: engram")) throw new Error(`no usage: ${result.stdout}`);
  return result.stdout.split("\n")[0];
});

await step("npx engram list --user alice (the README example's data folder, .engram)", async () => {
  const result = await run(NPM, ["exec", "--", "engram", "list", "--user", "alice"], { cwd: project, timeoutMs: 180_000 });
  expectExit0(result, "engram list");
  if (!result.stdout.includes("User prefers Python for data science")) throw new Error(`the example's memory is not listed: ${result.stdout}`);
  return result.stdout.trim().split("\n")[0];
});

await step("npx engram mcp --user alice: answers initialize, exits 0 once its client closes the pipe", async () => {
  const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "check-install", version: "1" } } };
  const result = await run(NPM, ["exec", "--", "engram", "mcp", "--user", "alice"], { cwd: project, timeoutMs: 180_000, input: `${JSON.stringify(initialize)}\n` });
  expectExit0(result, "engram mcp");
  if (!result.stdout.includes('"serverInfo":{"name":"engram"')) throw new Error(`no answer to initialize: ${result.stdout}`);
  return result.stdout.trim().slice(0, 200);
});

for (const door of Object.keys(DOORS)) {
  await step(`door ${door}: node out/door_${door.replace("-", "_")}.js`, async () => {
    // Runs even when tsc failed (it emits despite type errors), so a failure to run shows too.
    const result = await run(process.execPath, [`out/door_${door.replace("-", "_")}.js`], { cwd: project, timeoutMs: 300_000 });
    expectExit0(result, door);
    return result.stdout.trim().replace(/\s*\n\s*/g, " ").slice(0, 300);
  });
}

await step("no Chroma server of the project left running", async () => {
  // A server of the project names its folder, or runs in it (a relative --path).
  const ps = await run("ps", ["-eo", "pid=,args="]);
  const cwdOf = async (pid) => readlink(`/proc/${pid}/cwd`).catch(() => "");
  const left = [];
  for (const line of ps.stdout.split("\n").filter((text) => /chroma/i.test(text))) {
    const pid = line.trim().split(/\s+/)[0];
    if (line.includes(project) || (await cwdOf(pid)).startsWith(project)) left.push(line.trim());
  }
  if (left.length > 0) {
    // The check started them: stop them, so that it leaves nothing behind either.
    for (const line of left) process.kill(Number(line.trim().split(/\s+/)[0]), "SIGKILL");
    throw new Error(`${left.length} left:\n${left.join("\n").slice(0, 2000)}`);
  }
});

if (args.has("--keep")) console.log(`kept: ${project}`);
else await rm(work, { recursive: true, force: true });
const failed = results.filter((result) => !result.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
