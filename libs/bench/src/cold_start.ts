/**
 * Cold start, each run in a fresh child process: how long `import { Memory } from "engram"` takes,
 * and the first calls of a new `Memory` on an empty data folder (the embedded default: it starts
 * its local Chroma server and loads the embedding model on first use). Medians over several runs.
 *
 *   node --import tsx src/cold_start.ts [--runs 7] [--targets before=/tmp/old/libs/engram/dist/index.js,now=]
 *
 * `--targets` compares builds of the library (an older commit extracted and built elsewhere, and
 * the workspace's `engram` for an empty path), run by run in turn; by default the workspace's alone.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import { machineInfo } from "./machine.js";
import { median } from "./stats.js";

const opts = new Command()
  .option("--runs <n>", "child processes per measure", "7")
  .option("--engram <path>", "the library's entry file (default: the workspace's engram)")
  .option("--label <name>", "name of this build in the report", "now")
  .option("--targets <list>", "builds to compare, interleaved: label=path,label=path (an empty path: the workspace's engram)")
  .option("--child <what>", "(internal) measure in this process: import | first-call | trace")
  .option("--out <dir>", "output folder", "bench-results")
  .parse()
  .opts<{ runs: string; engram?: string; label: string; targets?: string; child?: "import" | "first-call" | "trace"; out: string }>();

interface Sample {
  /** Node's own start, until this script's first line (the same for every build). */
  bootMs: number;
  importMs: number;
  /** CPU time of the import (user + system, this process): what a busy machine does not distort. */
  importCpuMs: number;
  firstAddMs?: number;
  /** CPU time of the first add and search (this process; the Chroma server's own is not counted). */
  firstCallsCpuMs?: number;
  firstSearchMs?: number;
  closeMs?: number;
  /** Packages loaded by the import, among those that matter for start-up time. */
  loaded?: string[];
}

const HEAVY = ["langchain", "@langchain/langgraph", "@langchain/classic", "compromise", "@langchain/langgraph-checkpoint-sqlite", "@energetic-ai/core", "@modelcontextprotocol/sdk"];

if (opts.child === "trace") {
  // Which heavy packages the import loads: a resolve hook (in Node's loader thread) reports every
  // module URL. Run apart from the timed runs, whose import it would slow down.
  const { register } = await import("node:module");
  const { MessageChannel } = await import("node:worker_threads");
  const { port1, port2 } = new MessageChannel();
  const urls: string[] = [];
  port1.on("message", (url: string) => urls.push(url));
  const hook = "export function initialize({ port }) { globalThis.enginePort = port; } export async function resolve(specifier, context, next) { const result = await next(specifier, context); globalThis.enginePort.postMessage(result.url); return result; }";
  register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { port: port2 }, transferList: [port2] });
  await import(opts.engram ? pathToFileURL(opts.engram).href : "engram");
  await new Promise((resolve) => setTimeout(resolve, 200));
  port1.close();
  const loaded = HEAVY.filter((name) => urls.some((url) => url.includes(`/node_modules/${name}/`)));
  process.stdout.write(`${JSON.stringify({ bootMs: 0, importMs: 0, importCpuMs: 0, loaded })}\n`);
} else if (opts.child) {
  const bootMs = performance.now();
  const target = opts.engram ? pathToFileURL(opts.engram).href : "engram";
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { Memory } = (await import(target)) as typeof import("engram");
  const cpu = process.cpuUsage(cpu0);
  const sample: Sample = { bootMs, importMs: performance.now() - t0, importCpuMs: (cpu.user + cpu.system) / 1000 };
  if (opts.child === "first-call") {
    const dir = await mkdtemp(join(tmpdir(), "engram-cold-"));
    try {
      const memory = new Memory({ dataDir: dir });
      const cpuA = process.cpuUsage();
      const a = performance.now();
      await memory.add("User prefers Python for data science", { userId: "alice" });
      const b = performance.now();
      const found = await memory.search("What programming language?", { userId: "alice" });
      const c = performance.now();
      const cpuC = process.cpuUsage(cpuA);
      sample.firstCallsCpuMs = (cpuC.user + cpuC.system) / 1000;
      if (found.length === 0) throw new Error("the first search found nothing");
      await memory.close();
      Object.assign(sample, { firstAddMs: b - a, firstSearchMs: c - b, closeMs: performance.now() - c });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(`${JSON.stringify(sample)}\n`);
} else {
  const runs = Number(opts.runs);
  // Builds compared in one session, interleaved run by run, so the load other processes put on
  // the machine falls on each alike; their ratio to the first is what to quote.
  const targets = (opts.targets ?? `${opts.label}=${opts.engram ?? ""}`).split(",").map((spec) => {
    const [label, path] = spec.split("=") as [string, string | undefined];
    return { label, path: path === undefined || path === "" ? undefined : path };
  });
  const child = (what: "import" | "first-call" | "trace", path: string | undefined): Sample & { wallMs: number } => {
    const args = ["--import", "tsx", new URL(import.meta.url).pathname, "--child", what, ...(path ? ["--engram", path] : [])];
    const start = performance.now();
    const out = execFileSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
    const wallMs = performance.now() - start;
    return { ...(JSON.parse(out.trim().split("\n").at(-1)!) as Sample), wallMs };
  };
  const samples = targets.map(() => ({ imports: [] as Array<Sample & { wallMs: number }>, firsts: [] as Array<Sample & { wallMs: number }> }));
  for (let run = 0; run < runs; run += 1) {
    targets.forEach((target, i) => {
      samples[i]!.imports.push(child("import", target.path));
      samples[i]!.firsts.push(child("first-call", target.path));
    });
    process.stderr.write(`run ${run + 1}/${runs} done\n`);
  }
  const results = targets.map((target, i) => {
    const { imports, firsts } = samples[i]!;
    return {
      label: target.label,
      engram: target.path ?? "engram (workspace)",
      loadedByImport: child("trace", target.path).loaded ?? [],
      importMs: median(imports.map((s) => s.importMs)),
      importCpuMs: median(imports.map((s) => s.importCpuMs)),
      firstCallsCpuMs: median(firsts.map((s) => s.firstCallsCpuMs!)),
      bootMs: median(imports.map((s) => s.bootMs)),
      firstAddMs: median(firsts.map((s) => s.firstAddMs!)),
      firstSearchMs: median(firsts.map((s) => s.firstSearchMs!)),
      firstCallsMs: median(firsts.map((s) => s.firstAddMs! + s.firstSearchMs!)),
      firstCallProcessWallMs: median(firsts.map((s) => s.wallMs)),
      samples: { imports, firsts },
    };
  });
  const summary = { runs, results, loadAverage: (await import("node:os")).loadavg(), machine: machineInfo(), command: process.argv.slice(1).join(" ") };
  await mkdir(opts.out, { recursive: true });
  await writeFile(join(opts.out, `cold_start.json`), JSON.stringify(summary, null, 2) + "\n");
  const base = results[0]!;
  const cell = (value: number, baseline: number) => `${value.toFixed(0)}${results.length > 1 ? ` (${(value / baseline).toFixed(2)}×)` : ""}`;
  const rows: Array<[string, (r: (typeof results)[number]) => number]> = [
    ['import { Memory } from "engram", CPU time', (r) => r.importCpuMs],
    ['import { Memory } from "engram", wall time', (r) => r.importMs],
    ["Node's own start (same code for all)", (r) => r.bootMs],
    ["first add (new Memory, empty folder)", (r) => r.firstAddMs],
    ["first search after it (local Chroma start, model load, query)", (r) => r.firstSearchMs],
    ["first add + first search", (r) => r.firstCallsMs],
    ["first add + first search, CPU time of this process", (r) => r.firstCallsCpuMs],
    ["whole process: import, add, search, close", (r) => r.firstCallProcessWallMs],
  ];
  console.log(
    [
      `Cold start, median of ${runs} child processes per build, interleaved, ms (ratio to ${base.label})`,
      `| measure | ${results.map((r) => r.label).join(" | ")} |`,
      `|---|${results.map(() => "---:").join("|")}|`,
      ...rows.map(([name, get]) => `| ${name} | ${results.map((r) => cell(get(r), get(base))).join(" | ")} |`),
      "",
      ...results.map((r) => `${r.label}: the import loads ${r.loadedByImport.join(", ") || "none of " + HEAVY.join(", ")}`),
    ].join("\n"),
  );
}
