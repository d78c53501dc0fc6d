/**
 * Concurrent threads through the LangGraph dev server (the API behind Studio), issue 12 item 8:
 * N threads of N different users at once on the offline `memory_agent` (Engram's graph with the
 * scripted model), against `baseline_agent` (the same scripted model and window, no memory) in the
 * same server run, so Engram's share of a run is the difference. Per-run latency p50/p95/max,
 * runs/s, failed runs. A bench, not a test.
 *
 *   corepack yarn workspace engram build      # the example graphs import the built library
 *   node --import tsx src/devserver_load.ts --threads 10,50 --turns 4
 *
 * The server runs in a temporary folder on a copy of langgraph.json (graph paths rewritten, the
 * baseline graph added), with ENGRAM_DATA_DIR there too; it is stopped (its whole process group)
 * at the end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import os, { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Client } from "@langchain/langgraph-sdk";
import { Command } from "commander";
import { formatMachine, machineInfo } from "./machine.js";
import { summarize, type LatencySummary } from "./stats.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const cli = join(repoRoot, "node_modules/@langchain/langgraph-cli/dist/cli/cli.mjs");

interface Row {
  graph: string;
  threads: number;
  turns: number;
  runs: number;
  failed: number;
  wallMs: number;
  runsPerSecond: number;
  run: LatencySummary;
  firstError?: string;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

async function startDevServer(dir: string): Promise<{ server: ChildProcess; url: string; output: () => string }> {
  const config = JSON.parse(await readFile(join(repoRoot, "langgraph.json"), "utf8")) as { graphs: Record<string, string> };
  config.graphs.baseline_agent = "./examples/src/graphs/baseline_agent.ts:graph";
  for (const [id, spec] of Object.entries(config.graphs)) config.graphs[id] = relative(dir, resolve(repoRoot, spec));
  await writeFile(join(dir, "langgraph.json"), JSON.stringify(config));
  const port = await freePort();
  let output = "";
  const server = spawn(
    process.execPath,
    [cli, "dev", "--config", join(dir, "langgraph.json"), "--host", "127.0.0.1", "--port", String(port), "--no-browser", "--no-reload"],
    {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        LANGGRAPH_CLI_NO_ANALYTICS: "1",
        LANGSMITH_TRACING: "false",
        ENGRAM_DATA_DIR: join(dir, "data"),
        OPENAI_API_KEY: "",
        ENGRAM_MODEL: "",
      },
    },
  );
  server.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  server.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`The dev server exited (${server.exitCode}):\n${output}`);
    if (await fetch(`${url}/ok`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`The dev server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { server, url, output: () => output };
}

async function stopDevServer(server: ChildProcess): Promise<void> {
  if (server.pid === undefined || server.exitCode !== null) return;
  const exited = new Promise((done) => server.once("exit", done));
  process.kill(-server.pid, "SIGINT");
  const timer = setTimeout(() => {
    try {
      process.kill(-server.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

/** `threads` threads of as many users, `turns` runs each, all threads at once. */
async function load(client: Client, graph: string, threads: number, turns: number, tag: string): Promise<Row> {
  const times: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: threads }, async (_, i) => {
      const userId = `${tag}-${graph}-${threads}-u${i}`;
      const thread = await client.threads.create();
      for (let turn = 0; turn < turns; turn += 1) {
        const content = turn === 0 ? `Please remember: my favourite colour is shade ${i} and my cat is called Cat${i}.` : `Turn ${turn}: what do you remember about my cat?`;
        const t0 = performance.now();
        try {
          const result = await client.runs.wait(thread.thread_id, graph, {
            input: { messages: [{ role: "user", content }] },
            config: { configurable: { user_id: userId } },
          });
          const error = (result as { __error__?: { message?: string } } | null)?.__error__;
          if (error) throw new Error(error.message ?? JSON.stringify(error));
          times.push(performance.now() - t0);
        } catch (error) {
          failed += 1;
          firstError ??= (error as Error).message;
        }
      }
    }),
  );
  const wallMs = performance.now() - start;
  return {
    graph,
    threads,
    turns,
    runs: threads * turns,
    failed,
    wallMs: Math.round(wallMs),
    runsPerSecond: Math.round(((threads * turns - failed) / (wallMs / 1000)) * 10) / 10,
    run: summarize(times),
    ...(firstError ? { firstError } : {}),
  };
}

async function main(): Promise<void> {
  const flags = new Command()
    .option("--threads <list>", "concurrent threads (one user each), comma-separated", "10,50")
    .option("--turns <n>", "runs per thread", "4")
    .option("--label <label>", "name of the run in the output file", "run")
    .option("--out <dir>", "output folder", "results")
    .parse()
    .opts<{ threads: string; turns: string; label: string; out: string }>();
  const levels = flags.threads.split(",").map(Number);
  const turns = Number(flags.turns);
  const loadStart = os.loadavg().map((x) => x.toFixed(1)).join("/");
  const dir = await mkdtemp(join(tmpdir(), "engram-devserver-"));
  const { server, url, output } = await startDevServer(dir);
  const rows: Row[] = [];
  try {
    const client = new Client({ apiUrl: url });
    // Warm-up, not timed: the first memory_agent run loads the model and starts Chroma.
    for (const graph of ["baseline_agent", "memory_agent"]) await load(client, graph, 2, 2, "warm");
    for (const threads of levels) {
      // Baseline first, then Engram, at the same concurrency in the same server.
      for (const graph of ["baseline_agent", "memory_agent"]) {
        const row = await load(client, graph, threads, turns, flags.label);
        rows.push(row);
        console.error(
          `${graph} x${threads}: ${row.runsPerSecond} runs/s, p50 ${row.run.p50.toFixed(0)} p95 ${row.run.p95.toFixed(0)} max ${row.run.max.toFixed(0)} ms, failed ${row.failed}${row.firstError ? ` (${row.firstError})` : ""}`,
        );
      }
    }
  } catch (error) {
    console.error(output());
    throw error;
  } finally {
    await stopDevServer(server);
    await rm(dir, { recursive: true, force: true });
  }

  const byLevel = (threads: number, graph: string) => rows.find((r) => r.threads === threads && r.graph === graph)!;
  const lines = [
    `### LangGraph dev server: concurrent threads, memory_agent against a no-memory baseline (${flags.label})`,
    "",
    `Each thread is another user; ${turns} runs per thread, all threads at once, scripted model. ${formatMachine(machineInfo())}`,
    "",
    "| threads | graph | runs/s | run p50 | run p95 | run max | failed |",
    "|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.threads} | ${r.graph} | ${r.runsPerSecond} | ${r.run.p50.toFixed(0)} ms | ${r.run.p95.toFixed(0)} ms | ${r.run.max.toFixed(0)} ms | ${r.failed}/${r.runs} |`),
    "",
    ...levels.map((threads) => {
      const base = byLevel(threads, "baseline_agent");
      const mem = byLevel(threads, "memory_agent");
      return `${threads} threads: Engram's share of a run, p50 ${(mem.run.p50 - base.run.p50).toFixed(0)} ms (${(mem.run.p50 / base.run.p50).toFixed(1)}x the baseline), p95 ${(mem.run.p95 - base.run.p95).toFixed(0)} ms.`;
    }),
    "",
    `Load average (1/5/15 min) ${loadStart} at start, ${os.loadavg().map((x) => x.toFixed(1)).join("/")} at the end (2 cores shared with other work).`,
  ];
  const markdown = lines.join("\n");
  console.log(markdown);
  const out = resolve(flags.out);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, `devserver_${flags.label}.json`), JSON.stringify({ title: lines[0]!.slice(4), rows, markdown, machine: machineInfo(), command: process.argv.slice(1).join(" ") }, null, 2));
  await writeFile(join(out, `devserver_${flags.label}.md`), markdown + "\n");
}

await main();
