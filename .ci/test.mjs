#!/usr/bin/env node
// Runs Jest (unit and integration tests, or one kind with --unit / --int), then prints the plain
// line `N passed, N failed` that CI reads. Extra arguments go to Jest.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const args = process.argv.slice(2);
const jestArgs = [];
for (const arg of args) {
  if (arg === "--unit") jestArgs.push("--testPathIgnorePatterns", "\\.int\\.test\\.ts$", "/node_modules/");
  else if (arg === "--int") jestArgs.push("--testPathPatterns", "\\.int\\.test\\.ts$");
  else jestArgs.push(arg);
}
// ts-jest compiles each file alone (isolatedModules) and skips type errors: check types first, and
// count a type error as a failure without hiding the test results.
const tsc = spawnSync(process.execPath, [join(process.cwd(), "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json", "--noEmit"], {
  stdio: "inherit",
});
const typeErrors = tsc.status === 0 ? 0 : 1;
if (typeErrors) console.error("Type check failed (tsc -p tsconfig.json --noEmit).");

const out = join(mkdtempSync(join(tmpdir(), "engram-jest-")), "results.json");
// Every temporary folder the tests make (data folders, Chroma and PostgreSQL clusters, browser
// profiles) goes under one scratch folder, removed when Jest is done: a run would otherwise leave
// hundreds of folders (gigabytes) in /tmp. Readable by others so that the PostgreSQL tests' server,
// run as the postgres user, can reach its cluster folder inside.
const scratch = mkdtempSync(join(tmpdir(), "engram-tests-"));
chmodSync(scratch, 0o755);
const jest = join(process.cwd(), "node_modules", "jest", "bin", "jest.js");
const result = spawnSync(process.execPath, [jest, "--json", "--outputFile", out, ...jestArgs], {
  stdio: "inherit",
  env: {
    ...process.env,
    TMPDIR: scratch,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim(),
  },
});
try {
  rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
} catch (error) {
  console.error(`Could not remove ${scratch}: ${error instanceof Error ? error.message : String(error)}`);
}
let passed = 0;
let failed = 0;
if (existsSync(out)) {
  const report = JSON.parse(readFileSync(out, "utf8"));
  passed = report.numPassedTests;
  // A suite that fails to load has no failed tests of its own: count it as one failure.
  failed = report.numFailedTests + report.numRuntimeErrorTestSuites + typeErrors;
} else {
  failed = 1 + typeErrors;
}
rmSync(dirname(out), { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(result.status === 0 && failed === 0 ? 0 : 1);
