/**
 * Load: many users in one process, adds and searches interleaved, through one `Memory` (issue 12
 * item 8). A bench, not a test: it prints figures and writes them to a file.
 *
 * Each user runs turns one after another (search for something it said, then add the exchange);
 * all users run at once. Reported: search p50/p95/max, turn p50/p95, turns/s, RSS and heap before
 * and after each round (after a GC: a leak shows as growth from round to round), and a count of
 * every user's records at the end against what was acknowledged (no lost write, no duplicate).
 *
 *   node --expose-gc --import tsx src/load.ts --label after-static
 *   node --expose-gc --import tsx src/load.ts --label after-use-lite --embeddings use-lite
 *   ENGRAM_MODULE=/path/to/other/libs/engram/src/index.ts node --expose-gc --import tsx src/load.ts --label before
 *
 * ENGRAM_MODULE points the bench at another build of Engram (e.g. the source of an older commit),
 * so a before/after pair runs the same script.
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import { machineInfo, formatMachine } from "./machine.js";
import { summarize, type LatencySummary } from "./stats.js";

interface LoadMemory {
  add(input: string | Array<{ role: string; content: string }>, options: { userId: string }): Promise<{ results: Array<{ id: string }> }>;
  search(query: string, options: { userId: string; limit?: number }): Promise<Array<{ id: string; content: string }>>;
  getAll(options: { userId: string; limit?: number }): Promise<Array<{ id: string }>>;
  flush(): Promise<unknown>;
  close(): Promise<void>;
}

interface EngramModule {
  Memory: new (options: Record<string, unknown>) => LoadMemory;
  startChromaServer(options: { path: string }): Promise<{ url: string; stop(): Promise<void> }>;
  LocalEmbeddings?: new () => unknown;
  StaticEmbeddings?: new () => unknown;
}

interface Round {
  round: number;
  turns: number;
  wallMs: number;
  turnsPerSecond: number;
  search: LatencySummary;
  add: LatencySummary;
  turn: LatencySummary;
  /** MiB after the round's writes were flushed and a GC ran. */
  rssMiB: number;
  heapUsedMiB: number;
  /** Highest RSS seen while the round ran (sampled every 250 ms). */
  peakRssMiB: number;
}

const TOPICS = ["garden", "bike", "sister", "recipe", "trip", "book", "job", "dog", "piano", "flat"];

function userMessage(user: number, turn: number): string {
  const topic = TOPICS[(user + turn) % TOPICS.length]!;
  return `Turn ${turn} of user ${user}: my ${topic} plan for week ${turn} is number ${user * 1000 + turn}`;
}

function reply(user: number, turn: number): string {
  return `Got it, week ${turn} ${TOPICS[(user + turn) % TOPICS.length]} plan noted (${user * 1000 + turn}).`;
}

function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

async function main(): Promise<void> {
  const program = new Command()
    .option("--users <n>", "users at once", "50")
    .option("--seed-turns <n>", "exchanges each user stores before the timed rounds", "10")
    .option("--turns <n>", "timed turns per user per round", "8")
    .option("--rounds <n>", "timed rounds (RSS is compared between them)", "3")
    .option("--embeddings <kind>", "default | use-lite | static", "default")
    .option("--label <label>", "name of the run in the output file", "run")
    .option("--out <dir>", "output folder", "results")
    .parse();
  const flags = program.opts<{ users: string; seedTurns: string; turns: string; rounds: string; embeddings: string; label: string; out: string }>();
  const users = Number(flags.users);
  const seedTurns = Number(flags.seedTurns);
  const turns = Number(flags.turns);
  const rounds = Number(flags.rounds);
  const moduleName = process.env.ENGRAM_MODULE ?? "engram";
  const engram = (await import(moduleName)) as EngramModule;
  if (!(globalThis as { gc?: unknown }).gc) console.error("note: run with --expose-gc for RSS after GC");

  const loadStart = os.loadavg().map((x) => Math.round(x * 10) / 10);
  const dir = await mkdtemp(join(tmpdir(), "engram-load-"));
  const server = await engram.startChromaServer({ path: join(dir, "chroma") });
  let embeddings: unknown;
  if (flags.embeddings === "use-lite") embeddings = new engram.LocalEmbeddings!();
  else if (flags.embeddings === "static") embeddings = new engram.StaticEmbeddings!();
  const memory = new engram.Memory({ dataDir: join(dir, "data"), chroma: { url: server.url }, ...(embeddings ? { embeddings } : {}) });
  const acknowledged = new Map<number, Set<string>>();
  const ack = (user: number, ids: Array<{ id: string }>) => {
    const set = acknowledged.get(user) ?? new Set<string>();
    for (const { id } of ids) set.add(id);
    acknowledged.set(user, set);
  };

  try {
    collect();
    const rssStart = process.memoryUsage();
    // Warm-up: loads the model and opens the store (not timed).
    await memory.add("warm-up note", { userId: "warmup" });
    await memory.search("warm-up", { userId: "warmup" });
    await memory.flush();
    collect();
    const rssWarm = process.memoryUsage();

    const seedStart = performance.now();
    await Promise.all(
      Array.from({ length: users }, async (_, user) => {
        for (let turn = 0; turn < seedTurns; turn += 1) {
          const result = await memory.add([{ role: "user", content: userMessage(user, turn) }, { role: "assistant", content: reply(user, turn) }], { userId: `user-${user}` });
          ack(user, result.results);
        }
      }),
    );
    await memory.flush();
    const seedMs = performance.now() - seedStart;
    collect();
    const rssSeeded = process.memoryUsage();

    const results: Round[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const searches: number[] = [];
      const adds: number[] = [];
      const turnTimes: number[] = [];
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 250);
      const start = performance.now();
      await Promise.all(
        Array.from({ length: users }, async (_, user) => {
          for (let i = 0; i < turns; i += 1) {
            const turn = seedTurns + round * turns + i;
            const t0 = performance.now();
            // Asks about something the user said earlier (a topic of an older turn).
            await memory.search(`What is my ${TOPICS[(user + turn - 3) % TOPICS.length]} plan?`, { userId: `user-${user}`, limit: 5 });
            const t1 = performance.now();
            const result = await memory.add([{ role: "user", content: userMessage(user, turn) }, { role: "assistant", content: reply(user, turn) }], { userId: `user-${user}` });
            const t2 = performance.now();
            ack(user, result.results);
            searches.push(t1 - t0);
            adds.push(t2 - t1);
            turnTimes.push(t2 - t0);
          }
        }),
      );
      const wallMs = performance.now() - start;
      clearInterval(sampler);
      await memory.flush();
      collect();
      const usage = process.memoryUsage();
      const row: Round = {
        round: round + 1,
        turns: users * turns,
        wallMs: Math.round(wallMs),
        turnsPerSecond: Math.round(((users * turns) / (wallMs / 1000)) * 10) / 10,
        search: summarize(searches),
        add: summarize(adds),
        turn: summarize(turnTimes),
        rssMiB: mib(usage.rss),
        heapUsedMiB: mib(usage.heapUsed),
        peakRssMiB: mib(peak),
      };
      results.push(row);
      console.error(
        `round ${row.round}: ${row.turnsPerSecond} turns/s, search p50 ${row.search.p50.toFixed(1)} p95 ${row.search.p95.toFixed(1)} max ${row.search.max.toFixed(1)} ms, rss ${row.rssMiB} MiB, heap ${row.heapUsedMiB} MiB`,
      );
    }

    // A round of searches only, every write drained first: what a search costs when it does not
    // wait for the user's queued writes (a search drains them first, and drains run one at a time).
    const searchOnly: number[] = [];
    const searchOnlyStart = performance.now();
    await Promise.all(
      Array.from({ length: users }, async (_, user) => {
        for (let i = 0; i < turns; i += 1) {
          const t0 = performance.now();
          await memory.search(`What is my ${TOPICS[(user + i) % TOPICS.length]} plan?`, { userId: `user-${user}`, limit: 5 });
          searchOnly.push(performance.now() - t0);
        }
      }),
    );
    const searchOnlyWallMs = performance.now() - searchOnlyStart;
    const searchOnlySummary = summarize(searchOnly);
    console.error(`search only: p50 ${searchOnlySummary.p50.toFixed(1)} p95 ${searchOnlySummary.p95.toFixed(1)} max ${searchOnlySummary.max.toFixed(1)} ms`);

    // No lost write, no duplicate: every user's store holds exactly what was acknowledged.
    let lost = 0;
    let unexpected = 0;
    let stored = 0;
    for (let user = 0; user < users; user += 1) {
      const all = await memory.getAll({ userId: `user-${user}`, limit: 10_000 });
      const ids = new Set(all.map((r) => r.id));
      stored += all.length;
      if (ids.size !== all.length) unexpected += all.length - ids.size;
      for (const id of acknowledged.get(user) ?? []) if (!ids.has(id)) lost += 1;
      for (const id of ids) if (!(acknowledged.get(user) ?? new Set()).has(id)) unexpected += 1;
    }
    const expected = [...acknowledged.values()].reduce((sum, set) => sum + set.size, 0);

    const report = {
      title: `Load: ${users} users in one process (${flags.label})`,
      label: flags.label,
      engram: moduleName,
      embeddings: flags.embeddings,
      params: { users, seedTurns, turns, rounds },
      machine: machineInfo(),
      /** The machine is shared: its load average says how noisy the figures are. */
      loadAverage: { start: loadStart, end: os.loadavg().map((x) => Math.round(x * 10) / 10) },
      seedMs: Math.round(seedMs),
      memory: {
        startMiB: { rss: mib(rssStart.rss), heapUsed: mib(rssStart.heapUsed) },
        warmMiB: { rss: mib(rssWarm.rss), heapUsed: mib(rssWarm.heapUsed) },
        seededMiB: { rss: mib(rssSeeded.rss), heapUsed: mib(rssSeeded.heapUsed) },
      },
      rounds: results,
      searchOnly: { searches: searchOnly.length, wallMs: Math.round(searchOnlyWallMs), search: searchOnlySummary },
      writes: { acknowledged: expected, stored, lost, unexpected },
    };
    const lines = [
      `### ${report.title}`,
      "",
      `Engram: \`${moduleName}\`, embeddings: ${flags.embeddings}. ${users} users at once, each ${seedTurns} stored exchanges, then ${rounds} rounds of ${turns} turns (search, then add the exchange). ${formatMachine(report.machine)}`,
      "",
      "| round | turns/s | search p50 | search p95 | search max | add p50 | turn p95 | RSS after (MiB) | heap after (MiB) | peak RSS |",
      "|---|---|---|---|---|---|---|---|---|---|",
      ...results.map(
        (r) =>
          `| ${r.round} | ${r.turnsPerSecond} | ${r.search.p50.toFixed(1)} ms | ${r.search.p95.toFixed(1)} ms | ${r.search.max.toFixed(1)} ms | ${r.add.p50.toFixed(1)} ms | ${r.turn.p95.toFixed(1)} ms | ${r.rssMiB} | ${r.heapUsedMiB} | ${r.peakRssMiB} |`,
      ),
      `| searches only | ${Math.round((searchOnly.length / (searchOnlyWallMs / 1000)) * 10) / 10} searches/s | ${searchOnlySummary.p50.toFixed(1)} ms | ${searchOnlySummary.p95.toFixed(1)} ms | ${searchOnlySummary.max.toFixed(1)} ms | | | | | |`,
      "",
      `RSS at start ${report.memory.startMiB.rss} MiB, after model load ${report.memory.warmMiB.rss} MiB, after seeding ${report.memory.seededMiB.rss} MiB (seeding took ${report.seedMs} ms). ` +
        `Writes: ${expected} acknowledged, ${stored} stored, ${lost} lost, ${unexpected} duplicate or unexpected. ` +
        `Load average (1/5/15 min) ${report.loadAverage.start.join("/")} at start, ${report.loadAverage.end.join("/")} at the end (2 cores shared with other work).`,
    ];
    const markdown = lines.join("\n");
    console.log(markdown);
    const out = resolve(flags.out);
    await mkdir(out, { recursive: true });
    await writeFile(join(out, `load_${flags.label}.json`), JSON.stringify({ ...report, markdown, command: process.argv.slice(1).join(" ") }, null, 2));
    await writeFile(join(out, `load_${flags.label}.md`), markdown + "\n");
    if (lost > 0 || unexpected > 0) process.exitCode = 1;
  } finally {
    await memory.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
