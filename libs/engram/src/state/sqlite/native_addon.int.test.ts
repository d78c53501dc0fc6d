/**
 * better-sqlite3 installed without its native module (its install script skipped: npm's
 * `ignore-scripts`, a package `allowScripts` does not approve, pnpm 10's unapproved builds): the
 * first open of SQLite state fails with an EngramError that says so and what to run, not with
 * "Cannot open the database <file>" and the dozen paths `bindings` tried. A real child process
 * loads a real copy of better-sqlite3's code that has no build/ folder (tests/unbuilt_sqlite.mjs).
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const MODULES = join(HERE, "..", "..", "..", "..", "..", "node_modules");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-unbuilt-sqlite-"));
  // The package's code and its runtime dependency, without the binary its install script makes.
  await cp(join(MODULES, "better-sqlite3", "package.json"), join(dir, "node_modules", "better-sqlite3", "package.json"));
  await cp(join(MODULES, "better-sqlite3", "lib"), join(dir, "node_modules", "better-sqlite3", "lib"), { recursive: true });
  for (const name of ["bindings", "file-uri-to-path"]) await cp(join(MODULES, name), join(dir, "node_modules", name), { recursive: true });
  await writeFile(
    join(dir, "child.ts"),
    [
      `import { openDatabase } from ${JSON.stringify(join(HERE, "database.ts"))};`,
      "try {",
      `  openDatabase(${JSON.stringify(join(dir, "data", "engram.sqlite"))});`,
      '  console.log(JSON.stringify({ opened: true }));',
      "} catch (error) {",
      "  const { code, message } = error as { code?: string; message: string };",
      "  console.log(JSON.stringify({ code, message }));",
      "}",
    ].join("\n"),
  );
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("an unbuilt better-sqlite3 fails the first open with OUTBOX_ERROR naming the skipped install script and the fix", async () => {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", join(HERE, "..", "..", "tests", "unbuilt_sqlite.mjs"), "--import", "tsx", join(dir, "child.ts")], {
      env: { ...process.env, ENGRAM_UNBUILT_SQLITE: dir, NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}: ${text}`))));
  });
  const result = JSON.parse(out.trim().split("\n").at(-1)!) as { opened?: boolean; code?: string; message?: string };
  expect(result.code).toBe("OUTBOX_ERROR");
  // The real failure of the copy: bindings found no native module (the block is real).
  expect(result.message).toContain("Could not locate the bindings file");
  expect(result.message).toContain("better-sqlite3's native module was never built");
  expect(result.message).toContain("npm install-scripts approve better-sqlite3");
  expect(result.message).toContain("npm rebuild better-sqlite3");
}, 120_000);
