/** The engram library source of another commit, for benches that run it beside the working tree. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Imports `libs/engram/src/index.ts` as it is at git `ref`, extracted once into
 * libs/bench/bench-results/baseline-<ref> (ignored by git). It stays inside the repository, so
 * its imports resolve to the workspace's node_modules.
 */
export async function importBaseline<T>(ref: string): Promise<T> {
  const dir = resolve(REPO_ROOT, "libs/bench/bench-results", `baseline-${ref}`);
  const entry = join(dir, "libs/engram/src/index.ts");
  if (!existsSync(entry)) {
    await mkdir(dir, { recursive: true });
    const tar = execFileSync("git", ["archive", "--format=tar", ref, "libs/engram/src"], { cwd: REPO_ROOT, maxBuffer: 1 << 30 });
    // Without its tests: a test runner over the repository must not find them.
    execFileSync("tar", ["-x", "-C", dir, "--wildcards", "--exclude=*.test.ts"], { input: tar });
  }
  return (await import(pathToFileURL(entry).href)) as T;
}
