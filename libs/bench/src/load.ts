/**
 * Load: many users in one process, adds and searches interleaved, through one `Memory` (issue 12
 * item 8; issue 13 item 5's target: 50 users, search p95 <= 50 ms). A bench, not a test: it prints
 * figures and writes them to a file.
 *
 * Each user runs turns one after another (search for something it said, then add the exchange);
 * all users run at once. Two ways for a search to see the user's writes not yet in the store are
 * measured in the same process, round by round in alternating order, each on its own Memory (own
 * data folder, one Chroma server): `drain` (the search applies them to the store first and waits,
 * the behaviour before the pending overlay) and `overlay` (the search ranks them from the outbox;
 * memory/pending_overlay.ts). Reported per mode: search p50/p95/max, turn p95, turns/s, the time
 * the round's writes then took to reach the store (flush), process CPU per turn (this process and
 * the Chroma server), the 1-minute load average, RSS after each round (after a GC), then a round of
 * searches only (every write drained: the search's own cost, CPU per search), and a count of every
 * user's records at the end against what was acknowledged (no lost write, no duplicate).
 *
 *   node --expose-gc --import tsx src/load.ts --label quiet          # both modes, ~2-3 min loaded
 *   node --expose-gc --import tsx src/load.ts --pending overlay --embeddings use-lite --label x
 *   ENGRAM_MODULE=/path/to/other/libs/engram/src/index.ts node --expose-gc --import tsx src/load.ts --pending drain --label before
 *   node --expose-gc --import tsx src/load.ts --pending overlay-state,baseline:overlay-state --baseline 0a7ecca --embeddings static --label x
 *
 * A mode named `baseline:<mode>` runs on the library source of `--baseline <ref>` (extracted with
 * `git archive`), in the same process and on the same server as the others: a before/after pair
 * that shares the machine's load. Round 1 holds each user's first search (its recall index built
 * from the store); its p95 is printed on its own.
 *
 * It measures the source of this tree (libs/engram/src); ENGRAM_MODULE points it at another build
 * of Engram (an older one ignores `pending`).
 */
import { readFileSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { Command } from "commander";
import { importBaseline } from "./baseline_source.js";
import { machineInfo, formatMachine } from "./machine.js";
import { median, summarize, type LatencySummary } from "./stats.js";

interface LoadMemory {
  add(input: string | Array<{ role: string; content: string }>, options: { userId: string }): Promise<{ results: Array<{ id: string }> }>;
  search(query: string, options: { userId: string; limit?: number }): Promise<Array<{ id: string; content: string }>>;
  getAll(options: { userId: string; limit?: number }): Promise<Array<{ id: string }>>;
  flush(): Promise<unknown>;
  close(): Promise<void>;
}

interface EngramModule {
  Memory: new (options: Record<string, unknown>) => LoadMemory;
  startChromaServer(options: { path: string }): Promise<{ url: string; pid: number | undefined; stop(): Promise<void> }>;
  LocalEmbeddings?: new (options?: { runtime?: "onnx" | "tfjs" }) => unknown;
  StaticEmbeddings?: new () => unknown;
}

/**
 * `overlay-state`: `overlay` with recall's revisions read from the shared state instead of Chroma
 * (`recallIndex.revisions: "state"`; memory/gated_store.ts). `drain` and `overlay` read Chroma's
 * (the modes share one server by url, where `"auto"` reads the store's).
 */
type Mode = "drain" | "overlay" | "overlay-state";

/** A mode, or `baseline:<mode>`: the same mode on the baseline's source. */
type ModeName = Mode | `baseline:${Mode}`;

async function loadBaseline(ref: string): Promise<EngramModule> {
  return importBaseline<EngramModule>(ref);
}

interface Round {
  mode: ModeName;
  round: number;
  turns: number;
  wallMs: number;
  turnsPerSecond: number;
  /** The round's writes reaching the store after it (`flush()`): the drain work a round leaves behind. */
  flushMs: number;
  /** Turns per second counting the flush too. */
  turnsPerSecondWithFlush: number;
  search: LatencySummary;
  add: LatencySummary;
  turn: LatencySummary;
  /** CPU (user + system) of this process per turn, round and flush, ms. */
  cpuMsPerTurn: number;
  /** CPU of the Chroma server per turn, round and flush, ms (undefined when it cannot be read). */
  chromaCpuMsPerTurn?: number;
  /** Event-loop delay p99 during the round, ms: how long a ready callback (a search's next step) waited. */
  loopDelayP99: number;
  /** 1-minute load average at the round's end. */
  load1: number;
  /** MiB after the round's writes were flushed and a GC ran. */
  rssMiB: number;
  heapUsedMiB: number;
  /** Highest RSS seen while the round ran (sampled every 250 ms). */
  peakRssMiB: number;
}

interface SearchOnly {
  mode: ModeName;
  searches: number;
  wallMs: number;
  search: LatencySummary;
  cpuMsPerSearch: number;
  chromaCpuMsPerSearch?: number;
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

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

/** CPU ms of this process so far. */
function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * CPU ms so far of a process and its children (the Chroma server runs under a small supervisor),
 * from /proc; undefined where /proc cannot be read.
 */
function treeCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined || pid <= 0) return undefined;
  try {
    const tick = 1000 / 100; // USER_HZ is 100 on Linux
    const cpuOf = (p: number): number => {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime
    };
    let total = cpuOf(pid);
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) {
      total += cpuOf(Number(child));
    }
    return total;
  } catch {
    return undefined;
  }
}

/** One configuration under test: its Memory and what it acknowledged. */
interface Subject {
  mode: ModeName;
  memory: LoadMemory;
  acknowledged: Map<number, Set<string>>;
}

function ack(subject: Subject, user: number, ids: Array<{ id: string }>): void {
  const set = subject.acknowledged.get(user) ?? new Set<string>();
  for (const { id } of ids) set.add(id);
  subject.acknowledged.set(user, set);
}

async function main(): Promise<void> {
  const program = new Command()
    .option("--users <n>", "users at once", "50")
    .option("--seed-turns <n>", "exchanges each user stores before the timed rounds", "2")
    .option("--turns <n>", "timed turns per user per round", "3")
    .option("--rounds <n>", "timed rounds per mode (RSS is compared between them)", "3")
    .option(
      "--think-ms <n>",
      "each user's pause between turns (jittered 0.5x-1.5x): an agent's turn waits for its model for seconds; 0 sends turns back to back, which measures saturation (search time = users / throughput), not a search",
      "1000",
    )
    .option("--pending <modes>", "how a search sees queued writes: drain, overlay, overlay-state (revisions from the state), several compared in one run", "drain,overlay")
    .option("--embeddings <kind>", "default | use-lite (the default runtime) | use-lite-onnx | use-lite-tfjs | static", "default")
    .option("--baseline <ref>", "git commit whose libs/engram/src runs the baseline:<mode> modes", "0a7ecca")
    .option("--label <label>", "name of the run in the output file", "run")
    .option("--out <dir>", "output folder", "results")
    .parse();
  const flags = program.opts<{ users: string; seedTurns: string; turns: string; rounds: string; thinkMs: string; pending: string; embeddings: string; baseline: string; label: string; out: string }>();
  const thinkMs = Number(flags.thinkMs);
  const users = Number(flags.users);
  const seedTurns = Number(flags.seedTurns);
  const turns = Number(flags.turns);
  const rounds = Number(flags.rounds);
  const modes = flags.pending.split(",").map((mode) => mode.trim()) as ModeName[];
  const plain = (name: ModeName): Mode => name.replace(/^baseline:/, "") as Mode;
  for (const mode of modes.map(plain)) if (mode !== "drain" && mode !== "overlay" && mode !== "overlay-state") throw new Error(`--pending: drain, overlay or overlay-state (or baseline:<mode>), got ${mode}`);
  // The source of this tree by default: a stale build cannot be measured by mistake.
  const moduleName = process.env.ENGRAM_MODULE ?? fileURLToPath(new URL("../../engram/src/index.ts", import.meta.url));
  const engram = (await import(moduleName)) as EngramModule;
  const baseline = modes.some((mode) => mode.startsWith("baseline:")) ? await loadBaseline(flags.baseline) : undefined;
  if (!(globalThis as { gc?: unknown }).gc) console.error("note: run with --expose-gc for RSS after GC");

  const loadStart = os.loadavg().map(round1);
  const dir = await mkdtemp(join(tmpdir(), "engram-load-"));
  const server = await engram.startChromaServer({ path: join(dir, "chroma") });
  const chromaCpu = () => treeCpuMs(server.pid);
  let embeddings: unknown;
  if (flags.embeddings === "use-lite") embeddings = new engram.LocalEmbeddings!();
  else if (flags.embeddings === "use-lite-onnx") embeddings = new engram.LocalEmbeddings!({ runtime: "onnx" });
  else if (flags.embeddings === "use-lite-tfjs") embeddings = new engram.LocalEmbeddings!({ runtime: "tfjs" });
  else if (flags.embeddings === "static") embeddings = new engram.StaticEmbeddings!();
  const subjects: Subject[] = modes.map((name) => ({
    mode: name,
    memory: new (name.startsWith("baseline:") ? baseline! : engram).Memory({
      dataDir: join(dir, `data-${name.replace(":", "-")}`),
      chroma: { url: server.url },
      // Collections of its own: the modes write the same ids, and on shared collections each
      // mode's writes would advance the other's revisions (and rebuild its recall indexes).
      prefix: `load${name.replace(":", "-")}`,
      recallIndex: plain(name) === "overlay-state" ? { pending: "overlay", revisions: "state" } : { pending: plain(name), revisions: "store" },
      ...(embeddings ? { embeddings } : {}),
    }),
    acknowledged: new Map(),
  }));

  try {
    collect();
    const rssStart = process.memoryUsage();
    // Warm-up: loads the model and opens the stores (not timed).
    for (const { memory } of subjects) {
      await memory.add("warm-up note", { userId: "warmup" });
      await memory.search("warm-up", { userId: "warmup" });
      await memory.flush();
    }
    collect();
    const rssWarm = process.memoryUsage();

    const seedStart = performance.now();
    for (const subject of subjects) {
      await Promise.all(
        Array.from({ length: users }, async (_, user) => {
          for (let turn = 0; turn < seedTurns; turn += 1) {
            const result = await subject.memory.add([{ role: "user", content: userMessage(user, turn) }, { role: "assistant", content: reply(user, turn) }], { userId: `user-${user}` });
            ack(subject, user, result.results);
          }
        }),
      );
      await subject.memory.flush();
    }
    const seedMs = performance.now() - seedStart;
    collect();
    const rssSeeded = process.memoryUsage();

    const results: Round[] = [];
    for (let round = 0; round < rounds; round += 1) {
      // Alternating order, so neither mode always runs first on a machine whose load drifts.
      const order = round % 2 === 0 ? subjects : [...subjects].reverse();
      for (const subject of order) {
        const row = await runRound(subject, round, { users, seedTurns, turns, thinkMs }, chromaCpu);
        results.push(row);
        console.error(
          `${row.mode} round ${row.round}: ${row.turnsPerSecond} turns/s (${row.turnsPerSecondWithFlush} with flush), search p50 ${row.search.p50.toFixed(1)} p95 ${row.search.p95.toFixed(1)} ms, CPU ${row.cpuMsPerTurn} ms/turn, load ${row.load1}`,
        );
      }
    }

    // Searches only, every write drained first: what a search costs when nothing is queued.
    const searchOnly: SearchOnly[] = [];
    for (const subject of rounds % 2 === 0 ? subjects : [...subjects].reverse()) {
      const times: number[] = [];
      const cpu0 = ownCpuMs();
      const chroma0 = chromaCpu();
      const start = performance.now();
      await Promise.all(
        Array.from({ length: users }, async (_, user) => {
          for (let i = 0; i < turns; i += 1) {
            const t0 = performance.now();
            await subject.memory.search(`What is my ${TOPICS[(user + i) % TOPICS.length]} plan?`, { userId: `user-${user}`, limit: 5 });
            times.push(performance.now() - t0);
          }
        }),
      );
      const wallMs = performance.now() - start;
      const chroma1 = chromaCpu();
      const row: SearchOnly = {
        mode: subject.mode,
        searches: times.length,
        wallMs: Math.round(wallMs),
        search: summarize(times),
        cpuMsPerSearch: round2((ownCpuMs() - cpu0) / times.length),
        ...(chroma0 !== undefined && chroma1 !== undefined ? { chromaCpuMsPerSearch: round2((chroma1 - chroma0) / times.length) } : {}),
      };
      searchOnly.push(row);
      console.error(`${row.mode} searches only: p50 ${row.search.p50.toFixed(1)} p95 ${row.search.p95.toFixed(1)} ms, CPU ${row.cpuMsPerSearch} ms/search`);
    }

    // No lost write, no duplicate: every user's store holds exactly what was acknowledged.
    const writes: Record<string, { acknowledged: number; stored: number; lost: number; unexpected: number }> = {};
    for (const subject of subjects) {
      let lost = 0;
      let unexpected = 0;
      let stored = 0;
      for (let user = 0; user < users; user += 1) {
        const all = await subject.memory.getAll({ userId: `user-${user}`, limit: 10_000 });
        const ids = new Set(all.map((r) => r.id));
        const acked = subject.acknowledged.get(user) ?? new Set<string>();
        stored += all.length;
        if (ids.size !== all.length) unexpected += all.length - ids.size;
        for (const id of acked) if (!ids.has(id)) lost += 1;
        for (const id of ids) if (!acked.has(id)) unexpected += 1;
      }
      const acknowledged = [...subject.acknowledged.values()].reduce((sum, set) => sum + set.size, 0);
      writes[subject.mode] = { acknowledged, stored, lost, unexpected };
    }

    const mixed = (mode: ModeName) => results.filter((r) => r.mode === mode);
    const target = Object.fromEntries(
      modes.map((mode) => {
        const rows = mixed(mode);
        const searchP95 = median(rows.map((r) => r.search.p95));
        const first = rows.find((r) => r.round === 1)!;
        return [
          mode,
          {
            searchP50: median(rows.map((r) => r.search.p50)),
            searchP95,
            cpuMsPerTurn: round2(median(rows.map((r) => r.cpuMsPerTurn))),
            firstRoundP95: first.search.p95,
            firstRoundCpuMsPerTurn: first.cpuMsPerTurn,
          },
        ];
      }),
    ) as Partial<Record<ModeName, { searchP50: number; searchP95: number; cpuMsPerTurn: number; firstRoundP95: number; firstRoundCpuMsPerTurn: number }>>;

    const report = {
      title: `Load: ${users} users in one process (${flags.label})`,
      label: flags.label,
      engram: moduleName,
      embeddings: flags.embeddings,
      params: { users, seedTurns, turns, rounds, thinkMs, modes },
      machine: machineInfo(),
      /** The machine is shared: its load average says how noisy the figures are. */
      loadAverage: { start: loadStart, end: os.loadavg().map(round1) },
      seedMs: Math.round(seedMs),
      memory: {
        startMiB: { rss: mib(rssStart.rss), heapUsed: mib(rssStart.heapUsed) },
        warmMiB: { rss: mib(rssWarm.rss), heapUsed: mib(rssWarm.heapUsed) },
        seededMiB: { rss: mib(rssSeeded.rss), heapUsed: mib(rssSeeded.heapUsed) },
      },
      rounds: results,
      searchOnly,
      /** Median over the rounds of each mode's search p50 and p95 (the target: p95 <= 50 ms). */
      target,
      writes,
    };
    const chromaCell = (x: number | undefined) => (x === undefined ? "" : `${x}`);
    const lines = [
      `### ${report.title}`,
      "",
      `Engram: \`${moduleName}\`, embeddings: ${flags.embeddings}. ${users} users at once, each ${seedTurns} stored exchanges, then ${rounds} rounds per mode of ${turns} turns (search, then add the exchange, then a pause of ${thinkMs} ms x 0.5-1.5), modes in alternating order. ` +
        "`drain`: a search first applies the user's queued writes to the store and waits; `overlay`: it ranks them from the outbox (memory/pending_overlay.ts). " +
        `${formatMachine(report.machine)}`,
      "",
      "| mode | round | turns/s | with flush | search p50 | search p95 | search max | add p50 | turn p95 | CPU ms/turn | Chroma CPU ms/turn | event-loop delay p99 | load 1m | RSS after (MiB) |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...results.map(
        (r) =>
          `| ${r.mode} | ${r.round} | ${r.turnsPerSecond} | ${r.turnsPerSecondWithFlush} | ${r.search.p50.toFixed(1)} ms | ${r.search.p95.toFixed(1)} ms | ${r.search.max.toFixed(1)} ms | ${r.add.p50.toFixed(1)} ms | ${r.turn.p95.toFixed(1)} ms | ${r.cpuMsPerTurn} | ${chromaCell(r.chromaCpuMsPerTurn)} | ${r.loopDelayP99} ms | ${r.load1} | ${r.rssMiB} |`,
      ),
      ...searchOnly.map(
        (s) =>
          `| ${s.mode} | searches only | ${round1(s.searches / (s.wallMs / 1000))} searches/s | | ${s.search.p50.toFixed(1)} ms | ${s.search.p95.toFixed(1)} ms | ${s.search.max.toFixed(1)} ms | | | ${s.cpuMsPerSearch} per search | ${chromaCell(s.chromaCpuMsPerSearch)} | | | |`,
      ),
      "",
      ...modes.map((mode) => {
        const t = target[mode]!;
        return `**${mode}**: search p50 ${t.searchP50.toFixed(1)} ms, p95 ${t.searchP95.toFixed(1)} ms (median over rounds; target p95 <= 50 ms), CPU ${t.cpuMsPerTurn} ms per turn; round 1 (each user's first search) p95 ${t.firstRoundP95.toFixed(1)} ms, CPU ${t.firstRoundCpuMsPerTurn} ms per turn.`;
      }),
      ...modes
        .filter((mode) => mode.startsWith("baseline:") && target[plain(mode)])
        .map((mode) => {
          const before = target[mode]!;
          const after = target[plain(mode)]!;
          return `${plain(mode)} against ${mode} (${flags.baseline}): round 1 p95 ${round1(after.firstRoundP95)} / ${round1(before.firstRoundP95)} ms (${round2(after.firstRoundP95 / before.firstRoundP95)}x), median-round p95 ${round1(after.searchP95)} / ${round1(before.searchP95)} ms.`;
        }),
      ...(target.drain && target.overlay
        ? [`Search p95, drain / overlay: ${round1(target.drain.searchP95 / target.overlay.searchP95)}x; p50: ${round1(target.drain.searchP50 / target.overlay.searchP50)}x.`]
        : []),
      "",
      `RSS at start ${report.memory.startMiB.rss} MiB, after model load ${report.memory.warmMiB.rss} MiB, after seeding ${report.memory.seededMiB.rss} MiB (seeding took ${report.seedMs} ms). ` +
        `Writes: ${modes.map((mode) => `${mode} ${writes[mode]!.acknowledged} acknowledged, ${writes[mode]!.stored} stored, ${writes[mode]!.lost} lost, ${writes[mode]!.unexpected} duplicate or unexpected`).join("; ")}. ` +
        `Load average (1/5/15 min) ${report.loadAverage.start.join("/")} at start, ${report.loadAverage.end.join("/")} at the end (2 cores shared with other work).`,
    ];
    const markdown = lines.join("\n");
    console.log(markdown);
    const out = resolve(flags.out);
    await mkdir(out, { recursive: true });
    await writeFile(join(out, `load_${flags.label}.json`), JSON.stringify({ ...report, markdown, command: process.argv.slice(1).join(" ") }, null, 2));
    await writeFile(join(out, `load_${flags.label}.md`), markdown + "\n");
    if (Object.values(writes).some((w) => w.lost > 0 || w.unexpected > 0)) process.exitCode = 1;
  } finally {
    for (const { memory } of subjects) await memory.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One timed round of one mode: every user's turns at once, then the flush of what they wrote. */
async function runRound(
  subject: Subject,
  round: number,
  shape: { users: number; seedTurns: number; turns: number; thinkMs: number },
  chromaCpu: () => number | undefined,
): Promise<Round> {
  const { users, seedTurns, turns, thinkMs } = shape;
  const { memory } = subject;
  const searches: number[] = [];
  const adds: number[] = [];
  const turnTimes: number[] = [];
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 250);
  const cpu0 = ownCpuMs();
  const chroma0 = chromaCpu();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: users }, async (_, user) => {
      // Users arrive spread over one pause, not all in the round's first millisecond.
      if (thinkMs > 0) await new Promise((done) => setTimeout(done, (thinkMs * ((user * 7) % 11)) / 10));
      for (let i = 0; i < turns; i += 1) {
        const turn = seedTurns + round * turns + i;
        const t0 = performance.now();
        // Asks about something the user said earlier (a topic of an older turn).
        await memory.search(`What is my ${TOPICS[(user + turn - 3) % TOPICS.length]} plan?`, { userId: `user-${user}`, limit: 5 });
        const t1 = performance.now();
        const result = await memory.add([{ role: "user", content: userMessage(user, turn) }, { role: "assistant", content: reply(user, turn) }], { userId: `user-${user}` });
        const t2 = performance.now();
        ack(subject, user, result.results);
        searches.push(t1 - t0);
        adds.push(t2 - t1);
        turnTimes.push(t2 - t0);
        // Deterministic jitter, so users do not move in lockstep.
        if (thinkMs > 0) await new Promise((done) => setTimeout(done, thinkMs * (0.5 + ((user * 7 + i * 13) % 11) / 10)));
      }
    }),
  );
  const wallMs = performance.now() - start;
  clearInterval(sampler);
  loop.disable();
  const flushStart = performance.now();
  await memory.flush();
  const flushMs = performance.now() - flushStart;
  const cpuMs = ownCpuMs() - cpu0;
  const chroma1 = chromaCpu();
  const load1 = round1(os.loadavg()[0]!);
  collect();
  const usage = process.memoryUsage();
  const count = users * turns;
  return {
    mode: subject.mode,
    round: round + 1,
    turns: count,
    wallMs: Math.round(wallMs),
    turnsPerSecond: round1(count / (wallMs / 1000)),
    flushMs: Math.round(flushMs),
    turnsPerSecondWithFlush: round1(count / ((wallMs + flushMs) / 1000)),
    search: summarize(searches),
    add: summarize(adds),
    turn: summarize(turnTimes),
    cpuMsPerTurn: round2(cpuMs / count),
    ...(chroma0 !== undefined && chroma1 !== undefined ? { chromaCpuMsPerTurn: round2((chroma1 - chroma0) / count) } : {}),
    loopDelayP99: round1(loop.percentile(99) / 1e6),
    load1,
    rssMiB: mib(usage.rss),
    heapUsedMiB: mib(usage.heapUsed),
    peakRssMiB: mib(peak),
  };
}

await main();
