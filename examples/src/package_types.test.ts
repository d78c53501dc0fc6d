/**
 * The package's types under TypeScript's old `node10` module resolution (`moduleResolution: "node"`,
 * which ignores `exports`): every subpath of libs/engram/package.json is found through
 * `typesVersions`, at the same .d.ts that `exports` names. Checked by a real `tsc` run on a file that
 * imports each subpath, in a temporary app folder whose node_modules is the workspace's.
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENGRAM = join(ROOT, "libs/engram");
const TSC = join(resolve(createRequire(import.meta.url).resolve("typescript"), "../.."), "bin/tsc");

const pkg = JSON.parse(readFileSync(join(ENGRAM, "package.json"), "utf8")) as { exports: Record<string, string | { types: string }> };
/** Each import specifier and the .d.ts its `exports` entry names. */
const SUBPATHS = Object.entries(pkg.exports)
  .filter(([key]) => key !== "./package.json")
  .map(([key, target]) => ({ specifier: key === "." ? "engram" : `engram/${key.slice(2)}`, types: join(ENGRAM, (target as { types: string }).types) }));

let app: string;

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), "engram-node10-"));
  await symlink(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
  await writeFile(
    join(app, "tsconfig.json"),
    JSON.stringify({
      // skipLibCheck: some dependencies' own .d.ts files need a newer resolution; this checks Engram's doors.
      compilerOptions: { module: "commonjs", moduleResolution: "node10", target: "es2022", strict: true, noEmit: true, skipLibCheck: true, esModuleInterop: true, types: [] },
      files: ["app.ts"],
    }),
  );
});

afterAll(async () => {
  if (app !== undefined) await rm(app, { recursive: true, force: true });
});

function typeCheck(source: string): { status: number | null; output: string; files: string[] } {
  writeFileSync(join(app, "app.ts"), source);
  const run = spawnSync(process.execPath, [TSC, "-p", app, "--listFiles"], { cwd: app, encoding: "utf8", timeout: 300_000 });
  const lines = run.stdout.split("\n");
  return { status: run.status, output: lines.filter((line) => line.includes("error TS")).join("\n"), files: lines.filter((line) => line.startsWith("/")) };
}

it("every subpath type-checks under moduleResolution node10, resolved to the .d.ts that exports names", () => {
  const source = SUBPATHS.map(({ specifier }, i) => `import * as door${i} from ${JSON.stringify(specifier)};\nexport type Door${i} = typeof door${i};`).join("\n");
  const { status, output, files } = typeCheck(`${source}\n`);
  expect({ status, output }).toEqual({ status: 0, output: "" });
  for (const { specifier, types } of SUBPATHS) expect([specifier, files.includes(types)]).toEqual([specifier, true]);
});

it("the check can fail: a subpath the package does not map is not found", () => {
  const { status, output } = typeCheck('import * as missing from "engram/internal";\nexport type Missing = typeof missing;\n');
  expect(status).not.toBe(0);
  expect(output).toContain("error TS2307: Cannot find module 'engram/internal'");
});
