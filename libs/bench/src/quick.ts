/**
 * The quick benchmark run (under 10 minutes on 2 cores): LoCoMo with its default systems, the
 * store layout benchmark at 1k and 10k records, then the report (docs/benchmarks.md).
 *
 *   node --import tsx src/quick.ts [--out bench-results] [--docs ../../docs/benchmarks.md]
 *
 * Each step runs as its own Node process, one after the other. A failed benchmark does not stop
 * the others; the report is written from whatever the results folder holds, and the exit code is
 * non-zero if any step failed. Note: the results overwrite the JSONs of the same names in the
 * results folder (e.g. a full run's store_layout.json): pass --out to keep them apart.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { log } from "./progress.js";

const BENCH_ROOT = fileURLToPath(new URL("../", import.meta.url));
const REPO_ROOT = resolve(BENCH_ROOT, "../..");

const o = new Command()
  .name("quick")
  .description("Quick benchmark run: LoCoMo (default systems), store layout at 1k and 10k, then the report.")
  .option("--out <dir>", "folder for the result JSONs", join(BENCH_ROOT, "bench-results"))
  .option("--docs <file>", "report to write", join(REPO_ROOT, "docs", "benchmarks.md"))
  .parse(process.argv)
  .opts<{ out: string; docs: string }>();
const out = resolve(o.out);

const steps: Array<{ label: string; script: string; args: string[] }> = [
  { label: "LoCoMo (default systems)", script: "src/locomo/run.ts", args: ["--out", out] },
  {
    label: "store layout (1k, 10k)",
    script: "src/store_layout.ts",
    args: ["--sizes", "1000,10000", "--queries", "100", "--adds", "100", "--out", out],
  },
  { label: "report", script: "src/report/main.ts", args: ["--results", out, "--out", resolve(o.docs)] },
];

/** Set by SIGINT/SIGTERM: the running step is stopped (it cleans up after itself) and no other starts. */
let interrupted: NodeJS.Signals | undefined;
let child: ChildProcess | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    interrupted = signal;
    // Ctrl-C reaches the whole process group (the child too); a SIGTERM sent to this process alone is passed on.
    if (signal === "SIGTERM") child?.kill("SIGTERM");
  });
}

function run(script: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> {
  return new Promise((done) => {
    child = spawn(process.execPath, ["--enable-source-maps", "--import", "tsx", script, ...args], { cwd: BENCH_ROOT, stdio: "inherit" });
    child.once("error", (error) => done({ code: null, signal: null, error }));
    child.once("exit", (code, signal) => done({ code, signal }));
  });
}

const started = performance.now();
const failed: string[] = [];
for (const step of steps) {
  const t0 = performance.now();
  log(`\n=== ${step.label}: node --import tsx ${step.script} ${step.args.join(" ")}`);
  const result = await run(step.script, step.args);
  child = undefined;
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  if (interrupted) {
    log(`=== ${step.label}: interrupted (${interrupted})`);
    process.exit(interrupted === "SIGINT" ? 130 : 143);
  }
  if (result.error || result.code !== 0) {
    failed.push(step.label);
    log(`=== ${step.label}: FAILED after ${seconds} s (${result.error?.message ?? `exit ${result.code ?? result.signal}`})`);
  } else {
    log(`=== ${step.label}: done in ${seconds} s`);
  }
}
log(`\nQuick run: ${((performance.now() - started) / 1000).toFixed(0)} s${failed.length ? `; failed: ${failed.join(", ")}` : ""}`);
process.exitCode = failed.length ? 1 : 0;
