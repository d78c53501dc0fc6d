/**
 * Engram as a user gets it: the package packed with `npm pack`, installed with npm into a new
 * project (dependencies from the registry npm is configured with), and the README's first example
 * run there as written, on the embedded default (a local Chroma server, the local model).
 *
 * What it guards: what the monorepo's own install hides. Yarn's resolutions pin the Chroma
 * server's bindings here; a user's npm does not read them, and chromadb asks for the newest
 * bindings, whose Linux build needs glibc 2.38 (Debian 12 has 2.36): the example's first `add`
 * failed with "GLIBC_2.38 not found". Also a file the package forgets to ship (the static model,
 * the embedding worker) or a dependency it forgets to declare.
 */
import { describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { blocksOf } from "./tests/doc_blocks.js";
import { suiteTempDir } from "./tests/temp_dir.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENGRAM = join(ROOT, "libs", "engram");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

/** The version installed in the monorepo, so that the new project gets what the tests run (and npm's cache has it). */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

/** The README's first block marked `run`: the example a new user copies first. */
function readmeExample(): string {
  const block = blocksOf("README.md", readFileSync(join(ROOT, "README.md"), "utf8")).find((b) => b.flags.includes("run"));
  if (!block) throw new Error("README.md has no block marked `run`");
  return block.code;
}

/** The README's command that installs Engram into a project. */
function readmeInstall(): string[] {
  const line = readFileSync(join(ROOT, "README.md"), "utf8")
    .split("\n")
    .find((text) => text.startsWith("npm install engram "));
  if (!line) throw new Error("README.md has no `npm install engram ...` line");
  return line.split(/\s+/).slice(2);
}

describe("the packed package installed with npm into a new project", () => {
  const project = suiteTempDir("engram-install-");

  it(
    "runs the README's example on the embedded default, with the Chroma server Engram pins",
    async () => {
      const dir = project.path;
      await run(NPM, ["pack", "--pack-destination", dir], { cwd: ENGRAM, maxBuffer: 16 << 20 });
      const tarball = (await readdir(dir)).find((name) => name.endsWith(".tgz"));
      expect(tarball).toBeDefined();
      // What npm shows and the licences require travel with the code.
      const listing = await run("tar", ["-tzf", join(dir, tarball!)], { maxBuffer: 16 << 20 });
      expect(listing.stdout.split("\n").filter((file) => /^package\/(README\.md|LICENSE|NOTICE)$/.test(file)).sort()).toEqual([
        "package/LICENSE",
        "package/NOTICE",
        "package/README.md",
      ]);
      await writeFile(join(dir, "package.json"), JSON.stringify({ name: "new-app", private: true, type: "module" }));
      // The README's packages, with the tarball standing in for the registry's `engram` and the
      // framework at the monorepo's versions.
      const packages = readmeInstall().map((name) =>
        name === "engram" ? `./${tarball}` : `${name}@${installedVersion(name)}`,
      );
      expect(packages).toContain(`./${tarball}`);
      await run(NPM, ["install", "--no-audit", "--no-fund", "--prefer-offline", ...packages], {
        cwd: dir,
        maxBuffer: 64 << 20,
        // As docs/embeddings.md tells users: onnxruntime-node (an optional dependency) is kept
        // without its install script's download of CUDA libraries from NuGet.
        env: { ...process.env, npm_config_loglevel: "error", ONNXRUNTIME_NODE_INSTALL: "skip" },
      });

      await writeFile(join(dir, "example.mjs"), readmeExample());
      const example = await run(process.execPath, ["example.mjs"], { cwd: dir, timeout: 120_000 });
      const [content, score] = example.stdout.trim().split("\n").at(-1)!.split(/ (?=[\d.]+$)/);
      expect(content).toBe("User prefers Python for data science");
      expect(Number(score)).toBeGreaterThan(0);

      // The server that project runs is the one Engram pins (Chroma 1.0.0, bindings 1.0.5), not
      // the newest bindings that chromadb itself would load.
      await writeFile(
        join(dir, "version.mjs"),
        [
          'import { startChromaServer } from "engram";',
          'const server = await startChromaServer({ path: "chroma-version" });',
          'const response = await fetch(`${server.url}/api/v2/version`);',
          "console.log(JSON.parse(await response.text()));",
          "await server.stop();",
        ].join("\n"),
      );
      const version = await run(process.execPath, ["version.mjs"], { cwd: dir, timeout: 120_000 });
      expect(version.stdout.trim()).toBe("1.0.0");

      // The default model runs on ONNX Runtime from the package as installed (its worker, the
      // graph it writes and what they import all shipped), with USE-Lite's vectors.
      await writeFile(
        join(dir, "runtime.mjs"),
        [
          'import { LocalEmbeddings } from "engram";',
          "const embeddings = new LocalEmbeddings();",
          'const [a, b] = await embeddings.embedDocuments(["I moved to Lisbon in March.", "Where does she live now?"]);',
          "console.log(embeddings.runtime, a.length, a.reduce((sum, x) => sum + x * x, 0).toFixed(3));",
          "await embeddings.close();",
        ].join("\n"),
      );
      const runtime = await run(process.execPath, ["runtime.mjs"], { cwd: dir, timeout: 120_000 });
      expect(runtime.stdout.trim()).toBe("onnx 512 1.000");
    },
    15 * 60_000,
  );
});
