import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { runCli } from "./program.js";

/**
 * `engram export --out` into a folder other local users can write to (/tmp): the file it leaves
 * is the owner's alone, and nothing placed there beforehand (a link, a file) gets the memories.
 */
const SLOW = 600_000;
let chroma: TestChroma;

beforeAll(async () => {
  chroma = await startTestChroma();
}, SLOW);

afterAll(async () => {
  await chroma?.stop();
});

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const run = { code: -1, out: "", err: "" };
  run.code = await runCli(args, { out: (text) => void (run.out += text), err: (text) => void (run.err += text), cwd });
  return run;
}

it("writes the export through a new file of its own: a link planted at the old temporary name is not followed", async () => {
  const dir = await tempDir("engram-export-");
  const at = ["--chroma-url", chroma.server.url, "--data-dir", join(dir, "data"), "--prefix", "exportfile"];
  await writeFile(join(dir, "in.jsonl"), '{"id":"fay-1","kind":"fact","content":"Fay keeps her savings code in a blue notebook"}\n');
  expect((await cli(["import", "in.jsonl", "--user", "fay", ...at], dir)).code).toBe(0);

  const shared = await tempDir("engram-shared-");
  const out = join(shared, "fay.jsonl");
  // Another user's plant: a link where the export put its temporary file (its name was the
  // target's plus the process id), pointing at a file of the victim's own.
  const victim = join(dir, "notes.txt");
  await writeFile(victim, "my own notes\n");
  await symlink(victim, `${out}.${process.pid}.tmp`);
  // And a file already at the target, readable by everyone.
  await writeFile(out, "old\n", { mode: 0o644 });

  const run = await cli(["export", "--user", "fay", "--out", out, ...at], dir);
  expect(run).toMatchObject({ code: 0, err: "" });
  expect(await readFile(victim, "utf8")).toBe("my own notes\n");
  expect(JSON.parse((await readFile(out, "utf8")).trim())).toMatchObject({ id: "fay-1", content: "Fay keeps her savings code in a blue notebook" });
  expect((await stat(out)).mode & 0o777).toBe(0o600);
}, SLOW);
